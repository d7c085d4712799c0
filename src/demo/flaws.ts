import { IdemproofError } from '../errors.js';

/**
 * The realistic mistakes the demo target can make, one at a time. Each is a bug seen in real
 * idempotency code; idemproof's own tests turn each on to prove the check that should catch
 * it does. The correct behaviour (`none`) is the default.
 */
export const FLAWS = {
  'no-idempotency':
    'ignores Idempotency-Key entirely: every request, retry or not, creates a new effect',
  'check-then-insert':
    'looks the key up, calls the payment provider, and only then stores the key: concurrent ' +
    'duplicates all pass the check and each creates an effect',
  'no-payload-check':
    'never compares the request with the one first sent under the key: a different payload ' +
    'under a used key gets the first response replayed instead of 409',
  'regenerated-replay':
    'replays by re-reading the stored effect and serialising it anew instead of the stored ' +
    'bytes: 200 instead of 201, no Location header, fields in another order',
  'unscoped-keys':
    'stores keys globally instead of per tenant: a second tenant reusing a key gets the first ' +
    "tenant's response and no effect of its own",
  'ttl-units':
    'reads the key retention in milliseconds where seconds were meant: keys expire 1000 times ' +
    'sooner than the published policy, so a delayed retry runs again',
  'release-on-disconnect':
    'frees the key when the client disconnects during processing, although the payment ' +
    'provider was already called: the retry after a client timeout charges again',
  'missing-retry-after':
    'refuses a duplicate in flight with 409 but no Retry-After: the client is told to retry ' +
    'later without being told when, so it hammers the API or gives up',
  'stuck-after-abort':
    'abandons the work when the client disconnects mid-request but never frees the key (and ' +
    'never takes over an old reservation): the key answers 409 in progress forever',
  '500-then-409':
    'a naive store that leaves the key reserved when the work fails: the first attempt answers ' +
    '500 and every retry 409 in progress, forever',
  'trusted-client-header':
    'trusts a client-supplied X-Idempotency-Status: processing header as "another worker has ' +
    'this key": the request waits for a result that never comes and the key is poisoned',
  'crash-stuck':
    'never takes over a reservation left by a process that crashed mid-request: after a ' +
    'restart the key answers 409 in progress forever',
  'cache-only-dedupe':
    'keeps the dedupe record only in the memory of the process: a restart forgets every key, ' +
    'and a retry or replay after a cold start runs the work again',
  'unforwarded-key':
    'calls the payment provider without a forwarded key: when a call fails or its answer is ' +
    'lost, the retried call looks new to the provider and the customer is charged twice',
  'new-key-per-retry':
    'forwards a fresh key on each retry of the payment provider call: a retry after a lost ' +
    'answer is a new charge to the provider',
  'fail-open':
    'processes the payment anyway when the idempotency key store cannot be reached (down, ' +
    'reset, hanging): it answers 201 and charges without a key record, so the retry after ' +
    'the outage charges again',
} as const;

export type FlawName = keyof typeof FLAWS;
/** The flaws that show only when the target's process crashes or restarts. */
export const PROCESS_FLAWS = ['crash-stuck', 'cache-only-dedupe'] as const;
export type ProcessFlawName = (typeof PROCESS_FLAWS)[number];
export type Flaw = FlawName | 'none';

export const FLAW_NAMES = Object.keys(FLAWS) as FlawName[];

export function parseFlaw(value: string | undefined): Flaw {
  if (value === undefined || value === '' || value === 'none') return 'none';
  if ((FLAW_NAMES as string[]).includes(value)) return value as FlawName;
  throw new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `unknown flaw '${value}'; expected one of: none, ${FLAW_NAMES.join(', ')}`,
  );
}
