import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { withDeadline } from '../client/deadline.js';
import type { Flaw } from './flaws.js';
import { HttpProblem } from './http-io.js';

/**
 * The demo target's call to its payment provider, made before a payment is written and
 * answered. The provider dedupes by the key the demo forwards in `Idempotency-Key`: one key
 * per (tenant, idempotency key), the same on every call and every retry, so a call whose
 * answer was lost and is made again charges once. A 5xx, a timeout or a connection error is
 * retried (twice, with the same key); a 4xx or three failures fail the payment with a 502.
 *
 * Must not: call beyond what the request named (the URL is checked to be loopback), wait on
 * one call more than PROVIDER_TIMEOUT_MS, or change the forwarded key between retries (only
 * the `unforwarded-key` and `new-key-per-retry` flaws do).
 */

export const PROVIDER_TIMEOUT_MS = 800;
export const PROVIDER_RETRIES = 2;

/** `pay-<hash>`: stable for a (tenant, key); random when the request had no key. */
export function forwardedKeyOf(tenant: string, key: string | undefined): string {
  if (key === undefined) return `pay-${randomBytes(12).toString('hex')}`;
  return `pay-${createHash('sha256').update(`${tenant}\n${key}`).digest('hex').slice(0, 32)}`;
}

/** One connection per call: a dropped connection never spoils the next call. */
const agent = new Agent({ pipelining: 0 });

type CallOutcome = { readonly ok: true } | { readonly ok: false; readonly why: string };

async function callOnce(url: string, forwardedKey: string | undefined): Promise<CallOutcome> {
  try {
    const status = await withDeadline(PROVIDER_TIMEOUT_MS, async (signal) => {
      const response = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(forwardedKey === undefined ? {} : { 'idempotency-key': forwardedKey }),
        },
        body: JSON.stringify({ charge: true }),
        signal,
        dispatcher: agent,
      });
      await response.body.dump();
      return response.statusCode;
    });
    if (status < 400) return { ok: true };
    if (status < 500) {
      throw new HttpProblem(
        502,
        'Payment provider refused',
        `the payment provider answered ${status}; nothing was charged`,
      );
    }
    return { ok: false, why: `answered ${status}` };
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    return { ok: false, why: error instanceof Error ? error.message : String(error) };
  }
}

/** Calls the provider until it processes the charge, retrying with the same forwarded key. */
export async function chargeProvider(url: string, forwardedKey: string, flaw: Flaw): Promise<void> {
  const failures: string[] = [];
  for (let call = 0; call <= PROVIDER_RETRIES; call += 1) {
    const sent =
      flaw === 'unforwarded-key'
        ? undefined
        : flaw === 'new-key-per-retry' && call > 0
          ? `${forwardedKey}-${randomBytes(6).toString('hex')}`
          : forwardedKey;
    const outcome = await callOnce(url, sent);
    if (outcome.ok) return;
    failures.push(outcome.why);
  }
  throw new HttpProblem(
    502,
    'Payment provider unavailable',
    `the payment provider failed ${failures.length} times (${failures.join('; ')}); nothing was charged, retry with the same key`,
  );
}
