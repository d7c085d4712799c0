import type { Attempt, OkEvent, RecordedResponse } from '../history/events.js';
import { headerValue } from '../history/events.js';

/**
 * How an attempt ended, in the classes every checker reasons with: a success (2xx), a refusal
 * (4xx), a server error (5xx), another status (1xx/3xx), an unknown outcome (`info`, or no
 * completion recorded: it may or may not have been processed) or certainly not processed
 * (`fail`).
 *
 * Must not: judge whether the outcome was right for the attempt; checkers do that.
 */
export type Outcome =
  | {
      readonly kind: 'success' | 'refusal' | 'server-error' | 'other-status';
      readonly status: number;
    }
  | { readonly kind: 'unknown'; readonly reason: 'lost response' | 'timed out' | 'no completion' }
  | { readonly kind: 'not-processed' };

export const isSuccess = (status: number): boolean => status >= 200 && status <= 299;
export const isRefusal = (status: number): boolean => status >= 400 && status <= 499;
export const isServerError = (status: number): boolean => status >= 500 && status <= 599;

const TIMEOUT = /time(d)?[ _-]?out|ETIMEDOUT/i;

export function outcomeOf(attempt: Attempt): Outcome {
  const completion = attempt.completion;
  if (completion === undefined) return { kind: 'unknown', reason: 'no completion' };
  switch (completion.type) {
    case 'fail':
      return { kind: 'not-processed' };
    case 'info': {
      const text = `${completion.error.code} ${completion.error.message}`;
      return { kind: 'unknown', reason: TIMEOUT.test(text) ? 'timed out' : 'lost response' };
    }
    case 'ok': {
      const status = completion.response.status;
      if (isSuccess(status)) return { kind: 'success', status };
      if (isRefusal(status)) return { kind: 'refusal', status };
      if (isServerError(status)) return { kind: 'server-error', status };
      return { kind: 'other-status', status };
    }
  }
}

/** "201", "lost response", "timed out", "not delivered", "no completion recorded". */
export function describeOutcome(attempt: Attempt): string {
  const outcome = outcomeOf(attempt);
  switch (outcome.kind) {
    case 'not-processed':
      return 'not delivered';
    case 'unknown':
      return outcome.reason === 'no completion' ? 'no completion recorded' : outcome.reason;
    default:
      return String(outcome.status);
  }
}

/** "'retry 2' (lane lost-response)": how the attempt appears in the scenario's own words. */
export function describeAttempt(attempt: Attempt): string {
  return `'${attempt.invoke.label}' (lane ${attempt.invoke.lane})`;
}

/** "retry 2 → 201 (lane clean)", for the `actual` field of anomalies. */
export function describeAttemptAndOutcome(attempt: Attempt): string {
  return `${attempt.invoke.label} → ${describeOutcome(attempt)} (lane ${attempt.invoke.lane})`;
}

/** An attempt whose response was read: the pieces checkers compare. */
export interface Responded {
  readonly attempt: Attempt;
  readonly completion: OkEvent;
  readonly response: RecordedResponse;
  readonly status: number;
}

export function respondedOf(attempt: Attempt): Responded | undefined {
  const completion = attempt.completion;
  if (completion?.type !== 'ok') return undefined;
  return { attempt, completion, response: completion.response, status: completion.response.status };
}

/** History indexes of an attempt's invoke and completion, for `Anomaly.events`. */
export function eventsOf(...attempts: readonly Attempt[]): number[] {
  const indexes = attempts.flatMap((attempt) =>
    attempt.completion === undefined
      ? [attempt.invoke.index]
      : [attempt.invoke.index, attempt.completion.index],
  );
  return [...new Set(indexes)].sort((a, b) => a - b);
}

/** The response's value for `name` (case-insensitive), or undefined. */
export function responseHeader(response: RecordedResponse, name: string): string | undefined {
  return headerValue(response.headers, name.toLowerCase());
}
