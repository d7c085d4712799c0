import { attemptsOf } from '../history/events.js';
import { eventsOf, isSuccess, respondedOf } from './attempt-outcome.js';
import { describeBodyDifference } from './body-diff.js';
import { compareBodies } from './body-compare.js';
import { curlCommand } from './curl.js';
import { addAnomaly, defineChecker } from './findings.js';
import { compileJsonPaths } from './json-path.js';
import { referenceOf } from './reference.js';
import { byScope } from './scope.js';
import { capitalize, keyName, statusList } from './wording.js';

/**
 * inFlightDuplicates: attempts released together (same `group`) with the original payload
 * each get either the profile's in-flight status (e.g. 409) or an identical copy, status and
 * body, of the key's reference response (they may have waited, or arrived after it).
 *
 * Must not: count effects (effectsPerKey does), or judge a 429 (rate limiting comes before
 * the idempotency layer, so the duplicate was never tested: unknown).
 */
export const inFlightDuplicates = defineChecker(
  'inFlightDuplicates',
  'no concurrent duplicates (attempts released together) got a response',
  (history, { profile }, findings) => {
    const ignore = compileJsonPaths(profile.replayIgnore.jsonPaths).paths;
    for (const scope of byScope(attemptsOf(history))) {
      const reference = referenceOf(scope.attempts, profile);
      const name = keyName(scope.key, scope.tenant);
      for (const attempt of scope.attempts) {
        const responded = respondedOf(attempt);
        if (attempt.invoke.group === null || attempt.invoke.variant !== 'original') continue;
        if (responded === undefined) continue;
        findings.checked += 1;
        const who = `'${attempt.invoke.label}' (lane ${attempt.invoke.lane}, group ${attempt.invoke.group})`;
        const { status } = responded;
        if (profile.inFlightStatus.includes(status) || reference?.attempt === attempt) continue;
        if (status === 429) {
          findings.unknowns.push({
            subject: `${name}, ${who}`,
            reason:
              'it was rate-limited (429), so the duplicate never reached the idempotency layer',
          });
          continue;
        }
        if (reference === undefined) {
          findings.unknowns.push({
            subject: `${name}, ${who}`,
            reason: `it got ${status}, but the key has no stored response to compare it with`,
          });
          continue;
        }
        const body = compareBodies(reference.response, responded.response, ignore);
        if (body.same === 'unknown') {
          findings.unknowns.push({ subject: `${name}, ${who}`, reason: body.reason });
          continue;
        }
        if (status === reference.status && body.same) continue;
        const secondExecution = isSuccess(status) && !body.same;
        const diff = body.same
          ? `status ${reference.status} vs ${status}`
          : describeBodyDifference(reference.response, responded.response, {
              ignoreJsonPaths: ignore,
            });
        const allowed = `${statusList(profile.inFlightStatus)}, or a replay of the first response (${reference.status})`;
        addAnomaly(findings, {
          kind: secondExecution ? 'in-flight-second-execution' : 'in-flight-wrong-response',
          key: scope.key,
          tenant: scope.tenant,
          events: eventsOf(reference.attempt, attempt),
          expected: allowed,
          actual: `${status}: ${diff}`,
          curl: curlCommand(attempt.invoke.request),
          message: secondExecution
            ? `${capitalize(name)}: ${who} raced other requests with the same key and got ${status} with a different body than the first response (${diff}): the API most likely ran the request a second time. Concurrent duplicates must get ${statusList(profile.inFlightStatus)} or wait and replay; take the key with an atomic insert or a row lock before doing the work.`
            : `${capitalize(name)}: ${who} raced other requests with the same key and got ${status}. Expected ${allowed}, so a client knows to retry later or has the real result.`,
        });
      }
    }
  },
);
