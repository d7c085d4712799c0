import type { Attempt } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import { isServerError, isSuccess, type Responded } from './attempt-outcome.js';

/**
 * Whether a key was already taken when an attempt with a different payload was sent: what the
 * API must have known, from the history alone.
 * - taken: the key's reference response (a 2xx, or a 5xx the profile says is stored) had
 *   already been received;
 * - in-flight: an `original` attempt was in flight at the same time;
 * - free: no `original` attempt had been sent, or all of them were certainly not delivered;
 * - uncertain: an earlier `original` attempt may or may not have been processed.
 *
 * Must not: use anything but history order (indexes), which is the order events happened.
 */
export type KeyState = 'taken' | 'in-flight' | 'free' | 'uncertain';

/** An `original` attempt in flight while `attempt` was: sent before it completed, done after it was sent. */
export function overlappingOriginal(
  attempt: Attempt,
  attempts: readonly Attempt[],
): Attempt | undefined {
  const end = attempt.completion?.index ?? Number.POSITIVE_INFINITY;
  return attempts.find(
    (other) =>
      other !== attempt &&
      other.invoke.variant === 'original' &&
      other.invoke.index < end &&
      (other.completion === undefined || other.completion.index > attempt.invoke.index),
  );
}

export function keyStateWhenSent(
  attempt: Attempt,
  attempts: readonly Attempt[],
  reference: Responded | undefined,
  profile: Profile,
): KeyState {
  if (reference !== undefined && reference.completion.index < attempt.invoke.index) {
    const stored =
      isSuccess(reference.status) ||
      (isServerError(reference.status) && profile.firstAttempt5xx === 'replay');
    if (stored) return 'taken';
  }
  if (overlappingOriginal(attempt, attempts) !== undefined) return 'in-flight';
  const earlier = attempts.filter(
    (other) => other.invoke.variant === 'original' && other.invoke.index < attempt.invoke.index,
  );
  if (earlier.every((other) => other.completion?.type === 'fail')) return 'free';
  return 'uncertain';
}
