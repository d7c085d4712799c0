import type { CompletionEvent } from '../history/events.js';

/**
 * The one rule for what an attempt says about its key's liveness, shared by the executor (is a
 * follow-up retry due?) and the keyNotStuck checker (which attempt holds the key?), so the two
 * can never disagree:
 * - answered with an in-flight status: refused as in progress; it never started the work;
 * - `fail` (not delivered): it never started the work either;
 * - every other attempt (answered otherwise, outcome unknown, or no completion yet) may have
 *   started the work: it may hold the key;
 * - a key whose latest attempt was refused as in progress, or whose outcome is unknown, is
 *   still pending: a retry may tell what happened.
 *
 * Must not: look at anything but the completion and the in-flight statuses (no times, no
 * effects, no other attempts), or read the clock.
 */
export interface AttemptLiveness {
  /** Answered with one of the in-flight statuses ("in progress, retry later"). */
  readonly inProgress: boolean;
  /** May have started the work (delivered, not refused as in progress): it may hold the key. */
  readonly mayHold: boolean;
  /** As the key's latest attempt, it leaves the key pending: in progress, or outcome unknown. */
  readonly pending: boolean;
}

export function attemptLiveness(
  completion: CompletionEvent | undefined,
  inFlightStatus: readonly number[],
): AttemptLiveness {
  const inProgress =
    completion?.type === 'ok' && inFlightStatus.includes(completion.response.status);
  const unknown = completion === undefined || completion.type === 'info';
  return {
    inProgress,
    mayHold: !inProgress && completion?.type !== 'fail',
    pending: inProgress || unknown,
  };
}
