import type { Profile } from '../scenario/profile.js';
import {
  describeAttempt,
  eventsOf,
  isServerError,
  respondedOf,
  responseHeader,
  type Responded,
} from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { addAnomaly, type Findings } from './findings.js';
import { isFinalAnswer } from './reference.js';
import type { Scope } from './scope.js';
import { capitalize, keyName } from './wording.js';

/**
 * `firstAttempt5xx: 're-execute'`: when a key's first answer was a 5xx, a retry runs the
 * operation again; it must not get the stored 5xx back. A retry is a replay of the 5xx when
 * its response is marked as a replay (the profile's replay header, or a marker header
 * well-known from real APIs) and repeats that 5xx's status and body. An identical 5xx without
 * a marker may be the same failure again: unknown, never a violation.
 *
 * Must not: judge anything under 'replay' or 'either', or attempts after the key answered
 * something other than a 5xx (the operation ran again; those are replays of it).
 */

/** Replay markers real APIs send (Stripe, Spree; the anyonce and idempot.dev suites). */
const KNOWN_MARKERS = ['idempotent-replayed', 'idempotency-replayed', 'x-idempotent-replayed'];

function markedAsReplay(responded: Responded, profile: Profile): string | undefined {
  const names = [
    ...(profile.replayHeader === null ? [] : [profile.replayHeader.name]),
    ...KNOWN_MARKERS,
  ];
  return names.find(
    (name) => responseHeader(responded.response, name)?.trim().toLowerCase() === 'true',
  );
}

export function judgeReExecution(scope: Scope, profile: Profile, findings: Findings): void {
  if (profile.firstAttempt5xx !== 're-execute') return;
  const answers = scope.attempts
    .map(respondedOf)
    .filter((responded): responded is Responded => responded !== undefined)
    .filter((responded) => isFinalAnswer(responded, profile))
    .sort((a, b) => a.completion.index - b.completion.index);
  const [first, ...later] = answers;
  if (first === undefined || !isServerError(first.status)) return;
  findings.checked += 1;
  const name = keyName(scope.key, scope.tenant);
  for (const retry of later) {
    if (retry.attempt.invoke.index < first.completion.index) continue;
    if (!isServerError(retry.status)) return;
    const same =
      retry.status === first.status && retry.response.bodySha256 === first.response.bodySha256;
    if (!same) continue;
    const marker = markedAsReplay(retry, profile);
    if (marker === undefined) {
      findings.unknowns.push({
        subject: `${name}, ${describeAttempt(retry.attempt)}`,
        reason:
          `the retry got the first ${first.status} again, byte for byte and without a replay ` +
          'marker: the same failure again or a replayed one cannot be told apart',
      });
      continue;
    }
    addAnomaly(findings, {
      kind: 'server-error-replayed',
      key: scope.key,
      tenant: scope.tenant,
      events: eventsOf(first.attempt, retry.attempt),
      expected: `the operation run again after the first ${first.status} (firstAttempt5xx: re-execute)`,
      actual: `${describeAttempt(retry.attempt)} → the stored ${retry.status}, marked ${marker}: true`,
      message:
        `${capitalize(name)}: ${describeAttempt(first.attempt)} answered ${first.status}, and ` +
        `${describeAttempt(retry.attempt)} got that ${retry.status} replayed (${marker}: true). ` +
        'The profile says a retry after a 5xx runs the operation again (firstAttempt5xx: ' +
        're-execute): do not store server errors under the key; release it when the work fails.',
      curl: curlCommand(retry.attempt.invoke.request),
    });
    return;
  }
}
