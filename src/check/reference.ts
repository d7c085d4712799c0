import type { Attempt } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import { isServerError, respondedOf, type Responded } from './attempt-outcome.js';

/**
 * The reference response of a scope: what every replay must repeat. It is the earliest
 * completed response to an `original` attempt that is not an in-flight refusal, not a 429 (rate
 * limits come before the idempotency layer) and not a 5xx, unless the profile says 5xx
 * responses are stored and replayed (`firstAttempt5xx: 'replay'`).
 *
 * Must not: pick a response to a `different` payload, or a response that was only "busy".
 */
export function isReferenceCandidate(responded: Responded, profile: Profile): boolean {
  if (!isFinalAnswer(responded, profile)) return false;
  return !isServerError(responded.status) || profile.firstAttempt5xx === 'replay';
}

/** A response to an `original` attempt that is neither an in-flight refusal nor a 429. */
export function isFinalAnswer(responded: Responded, profile: Profile): boolean {
  const { status } = responded;
  return (
    responded.attempt.invoke.variant === 'original' &&
    !profile.inFlightStatus.includes(status) &&
    status !== 429
  );
}

function byCompletion(a: Responded, b: Responded): number {
  return a.completion.index - b.completion.index;
}

export function referenceOf(attempts: readonly Attempt[], profile: Profile): Responded | undefined {
  return attempts
    .map(respondedOf)
    .filter((responded): responded is Responded => responded !== undefined)
    .filter((responded) => isReferenceCandidate(responded, profile))
    .sort(byCompletion)[0];
}

/**
 * The other responses that must equal the reference: `original` attempts answered with
 * neither an in-flight status nor 429. Under 'either' / 're-execute', a 5xx counts only when it
 * came after the reference (an error that came first may be retried into a real result).
 */
export function replaysOf(
  attempts: readonly Attempt[],
  reference: Responded,
  profile: Profile,
): Responded[] {
  return attempts
    .map(respondedOf)
    .filter((responded): responded is Responded => responded !== undefined)
    .filter((responded) => responded.attempt !== reference.attempt)
    .filter((responded) => {
      const { status } = responded;
      if (!isFinalAnswer(responded, profile)) return false;
      if (!isServerError(status) || profile.firstAttempt5xx === 'replay') return true;
      return responded.completion.index > reference.completion.index;
    })
    .sort(byCompletion);
}
