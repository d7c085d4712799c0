import { attemptsOf, type Attempt } from '../history/events.js';
import {
  describeAttempt,
  describeOutcome,
  eventsOf,
  isServerError,
  isSuccess,
  outcomeOf,
} from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { effectReadings } from './effect-count.js';
import { addAnomaly, defineChecker } from './findings.js';
import { byScope } from './scope.js';
import { capitalize, keyName, plural } from './wording.js';

/**
 * distinctKeysDistinctEffects: requests with NEW keys (even with the same payload) are new
 * operations: each gets a 2xx and each key makes exactly one effect. A refusal (often 409)
 * means the API deduplicates by payload instead of by key.
 *
 * Must not: expect an effect from a key whose every attempt was certainly not delivered, report
 * a missing effect twice for a key already reported as refused, or judge a 429 (unknown).
 */
function whyNot2xx(status: number): string {
  if (status === 409) {
    return ': the API deduplicates by payload instead of by key, so two customers sending the same request would be refused';
  }
  if (isServerError(status)) return ': a server error, where a new operation was expected';
  return '';
}

/** What is wrong with a new key's effect count, and what was expected; undefined if right. */
function wrongEffects(
  count: number,
  attempts: readonly Attempt[],
): { readonly problem: string; readonly expected: string } | undefined {
  const kinds = attempts.map((attempt) => outcomeOf(attempt).kind);
  if (kinds.every((kind) => kind === 'not-processed')) {
    if (count === 0) return undefined;
    const problem = `made ${plural(count, 'effect')} although none of its requests was delivered`;
    return { problem, expected: 'no effect (never delivered)' };
  }
  const expected = 'exactly 1 effect';
  if (count > 1)
    return { problem: `made ${plural(count, 'effect')}: it ran more than once`, expected };
  if (count === 0 && kinds.includes('success')) {
    const problem =
      'got a 2xx but made no effect: the API treated it as a duplicate of another key with ' +
      "the same payload and replayed someone else's result";
    return { problem, expected };
  }
  return undefined;
}

export const distinctKeysDistinctEffects = defineChecker(
  'distinctKeysDistinctEffects',
  'no distinct-keys pattern in this scenario',
  (history, _context, findings) => {
    const attempts = attemptsOf(history).filter((a) => a.invoke.patternKind === 'distinct-keys');
    const readings = effectReadings(history);
    let effects = 0;
    let unread = 0;
    for (const scope of byScope(attempts)) {
      findings.checked += 1;
      const name = keyName(scope.key, scope.tenant);
      for (const attempt of scope.attempts) {
        const outcome = outcomeOf(attempt);
        if (!('status' in outcome) || isSuccess(outcome.status)) continue;
        if (outcome.status === 429) {
          const reason = 'it was rate-limited (429), so the API never decided about the new key';
          findings.unknowns.push({ subject: `${name}, ${describeAttempt(attempt)}`, reason });
          continue;
        }
        addAnomaly(findings, {
          kind: 'distinct-key-refused',
          key: scope.key,
          tenant: scope.tenant,
          events: eventsOf(attempt),
          expected: 'a 2xx: a new key is a new operation',
          actual: String(outcome.status),
          curl: curlCommand(attempt.invoke.request),
          message: `${capitalize(name)} was new, but ${describeAttempt(attempt)} got ${outcome.status}${whyNot2xx(outcome.status)}. Only the Idempotency-Key identifies a retry; a request with a new key must be processed.`,
        });
      }
      const count = readings.ofScope(scope.key, scope.tenant);
      if (!count.known) {
        unread += 1;
        findings.unknowns.push({
          subject: name,
          reason: `the number of effects is unknown because ${count.reason}`,
        });
        continue;
      }
      effects += count.count;
      const wrong = wrongEffects(count.count, scope.attempts);
      const first = scope.attempts[0];
      if (wrong === undefined || first === undefined) continue;
      addAnomaly(findings, {
        kind: 'distinct-key-wrong-effects',
        key: scope.key,
        tenant: scope.tenant,
        events: [...eventsOf(...scope.attempts), count.probe.index],
        expected: wrong.expected,
        actual: `${plural(count.count, 'effect')} after ${scope.attempts.map(describeOutcome).join(', ')}`,
        curl: curlCommand(first.invoke.request),
        message: `${capitalize(name)} was new and ${wrong.problem}. Each new key must make exactly one effect.`,
      });
    }
    if (findings.checked > 0) {
      const missing = unread > 0 ? ` (${plural(unread, 'key')} without an effect reading)` : '';
      findings.notes.push(
        `${plural(findings.checked, 'key')} made ${plural(effects, 'effect')}${missing}.`,
      );
    }
  },
);
