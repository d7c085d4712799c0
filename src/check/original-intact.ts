import type { Attempt } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import { describeAttempt, eventsOf, type Responded } from './attempt-outcome.js';
import { describeBodyDifference } from './body-diff.js';
import { compareBodies } from './body-compare.js';
import { curlCommand } from './curl.js';
import { addAnomaly, type Findings } from './findings.js';
import type { PathSegment } from './json-path.js';
import { replaysOf } from './reference.js';
import type { Scope } from './scope.js';
import { capitalize, keyName } from './wording.js';

/**
 * "Original result intact": after a different payload was sent under a key, the key's own
 * request still gets its first response back, status and body. A mismatch that overwrote the
 * stored result (or re-ran the original) fails this.
 *
 * Must not: judge responses to the different payload itself (conflictOnMismatch's first half
 * does), or `original` responses that came before any different payload had completed.
 */
export function originalResultChanged(
  scope: Scope,
  reference: Responded,
  different: readonly Attempt[],
  profile: Profile,
  ignore: readonly (readonly PathSegment[])[],
  findings: Findings,
): void {
  const delivered = different.filter(
    (attempt) => attempt.completion !== undefined && attempt.completion.type !== 'fail',
  );
  const first = delivered.sort(
    (a, b) => (a.completion?.index ?? 0) - (b.completion?.index ?? 0),
  )[0];
  if (first?.completion === undefined) return;
  const after = first.completion.index;
  const name = keyName(scope.key, scope.tenant);
  for (const replay of replaysOf(scope.attempts, reference, profile)) {
    if (replay.attempt.invoke.index < after) continue;
    const body = compareBodies(reference.response, replay.response, ignore);
    if (body.same === 'unknown') {
      findings.unknowns.push({
        subject: `${name}, ${describeAttempt(replay.attempt)}`,
        reason: body.reason,
      });
      continue;
    }
    if (replay.status === reference.status && body.same) continue;
    const change =
      replay.status !== reference.status
        ? `status ${reference.status} became ${replay.status}`
        : describeBodyDifference(reference.response, replay.response, { ignoreJsonPaths: ignore });
    addAnomaly(findings, {
      kind: 'original-result-changed',
      key: scope.key,
      tenant: scope.tenant,
      events: eventsOf(reference.attempt, first, replay.attempt),
      expected: `the first response (${reference.status}, sha256 ${reference.response.bodySha256})`,
      actual: `${replay.status}: ${change}`,
      curl: curlCommand(replay.attempt.invoke.request),
      message:
        `${capitalize(name)}: after ${describeAttempt(first)} sent a different payload, ` +
        `${describeAttempt(replay.attempt)} (the original payload) no longer got the first ` +
        `response (${change}). The mismatched request changed what the key stores; a refused ` +
        'mismatch must leave the first result intact.',
    });
  }
}
