import { createHash } from 'node:crypto';
import type { RecordedResponse } from '../../../src/history/events.js';

/** Recorded responses for checker tests, with a real SHA-256 of the whole body. */
export interface ResponseSpec {
  readonly status: number;
  /** A string is sent as is; anything else as JSON. Default: `{}`. */
  readonly body?: unknown;
  readonly headers?: readonly (readonly [string, string])[];
  /** Record only this many characters of the body (as the recording limit does). */
  readonly recordedChars?: number;
}

export const TARGET = 'http://127.0.0.1:3000/payments';

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function responseOf(spec: ResponseSpec): RecordedResponse {
  const body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body ?? {});
  const cut = spec.recordedChars === undefined ? body : body.slice(0, spec.recordedChars);
  // A Content-Type the spec gives replaces the default one.
  const typed = (spec.headers ?? []).some(([name]) => name.toLowerCase() === 'content-type');
  const defaultType: [string, string][] = typed ? [] : [['content-type', 'application/json']];
  return {
    status: spec.status,
    headers: [...defaultType, ...(spec.headers ?? [])].map(
      ([name, value]) => [name.toLowerCase(), value] as const,
    ),
    body: cut,
    bodyBytes: Buffer.byteLength(body),
    bodySha256: sha256(body),
    bodyTruncated: cut !== body,
  };
}

/** A realistic payment body, as the demo target answers. */
export function payment(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    amount: 1000,
    currency: 'EUR',
    customer: 'cus_1',
    status: 'succeeded',
    created_at: '2025-01-01T10:00:00.000Z',
    ...extra,
  };
}
