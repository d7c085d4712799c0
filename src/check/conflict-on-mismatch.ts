import { attemptsOf, type Attempt } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import {
  describeAttempt,
  eventsOf,
  isSuccess,
  respondedOf,
  type Responded,
} from './attempt-outcome.js';
import { compileJsonPaths } from './json-path.js';
import { curlCommand } from './curl.js';
import { differingParts, fingerprintDifference } from './fingerprint.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { keyStateWhenSent, overlappingOriginal } from './key-state.js';
import { originalResultChanged } from './original-intact.js';
import { referenceOf } from './reference.js';
import { byScope, type Scope } from './scope.js';
import { capitalize, keyName, statusList } from './wording.js';

/**
 * conflictOnMismatch: a key reused with a different payload is refused with the profile's
 * mismatch status (or its in-flight status while an `original` attempt is still in flight),
 * and the refusal leaves the first result intact: later `original` attempts still get the
 * reference response.
 *
 * Must not: count effects (effectsPerKey does), or judge a different payload sent when the key
 * was free (that is the key's first use) or possibly free (its first request was lost).
 */
function judge(
  scope: Scope,
  attempt: Attempt,
  reference: Responded | undefined,
  profile: Profile,
  findings: Findings,
): void {
  const name = keyName(scope.key, scope.tenant);
  const who = describeAttempt(attempt);
  const responded = respondedOf(attempt);
  if (responded === undefined) return;
  const { status } = responded;
  if (profile.mismatchStatus.includes(status)) return;
  const overlap = overlappingOriginal(attempt, scope.attempts);
  if (overlap !== undefined && profile.inFlightStatus.includes(status)) return;
  const state = keyStateWhenSent(attempt, scope.attempts, reference, profile);
  if (state === 'free') {
    findings.notes.push(
      `${capitalize(name)}: ${who} was the key's first use (no original request had reached the API), so it was not checked.`,
    );
    return;
  }
  if (state === 'in-flight' && isSuccess(status) && !originalSucceeded(scope.attempts)) {
    // Sent together with the original on a key no request had finished with: whichever
    // reached the API first owns the key, and here the different payload did.
    findings.notes.push(
      `${capitalize(name)}: ${who} raced the original request for the key and got ${status} while no original request succeeded: it reached the API first, which is allowed.`,
    );
    return;
  }
  if (state === 'uncertain' || status === 429) {
    const why =
      status === 429
        ? 'it was rate-limited (429), so the mismatch was never judged by the idempotency layer'
        : `it got ${status} while the key's first request had an unknown outcome, so it may have been the key's first use`;
    findings.unknowns.push({ subject: `${name}, ${who}`, reason: why });
    return;
  }
  const allowed =
    `${statusList(profile.mismatchStatus)} (profile mismatchStatus)` +
    (overlap !== undefined
      ? `, or ${statusList(profile.inFlightStatus)} while the first request is in flight`
      : '');
  const replayed =
    reference !== undefined && reference.response.bodySha256 === responded.response.bodySha256;
  const accepted = isSuccess(status);
  addAnomaly(findings, {
    kind: accepted ? 'mismatch-accepted' : 'mismatch-wrong-status',
    key: scope.key,
    tenant: scope.tenant,
    events: eventsOf(...(reference === undefined ? [] : [reference.attempt]), attempt),
    expected: allowed,
    actual: `${status}${replayed ? ', with the body of the first response' : ''}`,
    curl: curlCommand(attempt.invoke.request),
    message: accepted
      ? replayed
        ? `${capitalize(name)}: ${who} sent a different payload and got ${status} with the first request's body. The API replayed the first response for a different request: it does not compare payloads. Store a fingerprint of the request with the key and refuse a mismatch with ${statusList(profile.mismatchStatus)}.`
        : `${capitalize(name)}: ${who} sent a different payload under a key already in use and got ${status}: the API processed a different request under the same key, which may have created a second effect or overwritten the first. Expected ${allowed}.`
      : `${capitalize(name)}: ${who} sent a different payload under a key already in use and got ${status}. Expected ${allowed}, so clients can tell that they reused a key by mistake.`,
  });
}

/**
 * The `different` attempts that differ from the key's original request inside the profile's
 * fingerprint; the others are the same request to the API (it may replay them): noted, not
 * judged.
 */
function withinFingerprint(
  scope: Scope,
  different: readonly Attempt[],
  profile: Profile,
  findings: Findings,
): Attempt[] {
  const original = scope.attempts.find((attempt) => attempt.invoke.variant === 'original');
  if (original === undefined) return [...different];
  return different.filter((attempt) => {
    const [request, first] = [attempt.invoke.request, original.invoke.request];
    if (fingerprintDifference(request, first, profile.fingerprint).length > 0) return true;
    const parts = differingParts(request, first, []);
    findings.notes.push(
      `${capitalize(keyName(scope.key, scope.tenant))}: ${describeAttempt(attempt)} differs from the original only outside the profile's fingerprint (${parts.join(', ') || 'in no compared part'}), so it is the same request and may be replayed; not judged as a mismatch.`,
    );
    return false;
  });
}

/** Did any attempt with the original payload get a 2xx under this key? */
function originalSucceeded(attempts: readonly Attempt[]): boolean {
  return attempts.some((other) => {
    if (other.invoke.variant !== 'original') return false;
    const responded = respondedOf(other);
    return responded !== undefined && isSuccess(responded.status);
  });
}

export const conflictOnMismatch = defineChecker(
  'conflictOnMismatch',
  'no attempt sent a different payload under a key',
  (history, { profile }, findings) => {
    const ignore = compileJsonPaths(profile.replayIgnore.jsonPaths).paths;
    for (const scope of byScope(attemptsOf(history))) {
      const different = withinFingerprint(
        scope,
        scope.attempts.filter((attempt) => attempt.invoke.variant === 'different'),
        profile,
        findings,
      );
      if (different.length === 0) continue;
      findings.checked += 1;
      const reference = referenceOf(scope.attempts, profile);
      for (const attempt of different) judge(scope, attempt, reference, profile, findings);
      if (!different.some((attempt) => respondedOf(attempt) !== undefined)) {
        findings.unknowns.push({
          subject: keyName(scope.key, scope.tenant),
          reason:
            'no response to the different payload was received (lost, timed out or not delivered), so the refusal could not be seen',
        });
      }
      if (reference !== undefined) {
        originalResultChanged(scope, reference, different, profile, ignore, findings);
      }
    }
  },
);
