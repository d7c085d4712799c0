import { attemptsOf, type Attempt } from '../history/events.js';
import {
  describeAttemptAndOutcome,
  describeOutcome,
  eventsOf,
  outcomeOf,
} from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { effectReadings } from './effect-count.js';
import { addAnomaly, defineChecker } from './findings.js';
import { byScope } from './scope.js';
import { capitalize, keyName, plural } from './wording.js';

/**
 * effectsPerKey: each key (per tenant) has the number of effects its attempts allow.
 * - some attempt succeeded (2xx): exactly one effect;
 * - otherwise, some outcome unknown or a 5xx (or another non-4xx status): at most one;
 * - otherwise (every attempt refused with a 4xx or certainly not delivered): none.
 *
 * Must not: judge responses (replayIdenticalResponses and others do), count requests sent
 * without a key (missingKeyRefused does), or guess a count the probe did not report.
 */
type Rule = 'exactly one' | 'at most one' | 'none';

function ruleFor(attempts: readonly Attempt[]): Rule {
  const kinds = attempts.map((attempt) => outcomeOf(attempt).kind);
  if (kinds.includes('success')) return 'exactly one';
  if (kinds.some((kind) => kind !== 'refusal' && kind !== 'not-processed')) return 'at most one';
  return 'none';
}

const EXPECTED: Record<Rule, string> = {
  'exactly one': 'exactly 1 effect',
  'at most one': 'at most 1 effect',
  none: 'no effect',
};

function explain(rule: Rule, count: number): { kind: string; why: string } | undefined {
  if (rule === 'exactly one' && count > 1) {
    return {
      kind: 'duplicate-effect',
      why: 'a retry ran the operation again. Expected exactly one effect for a key that succeeded.',
    };
  }
  if (rule === 'exactly one' && count === 0) {
    return {
      kind: 'missing-effect',
      why:
        'the API answered success but nothing was done. Expected exactly one effect for a key ' +
        'that succeeded: check that the response is sent only after the work is committed, and ' +
        'that the effect probe counts the right rows.',
    };
  }
  if (rule === 'at most one' && count > 1) {
    return {
      kind: 'duplicate-effect',
      why:
        'a retry ran the operation again. Expected at most one effect when no attempt is known ' +
        'to have succeeded: a lost response or a server error must not release the key while ' +
        'the work may have been done.',
    };
  }
  if (rule === 'none' && count > 0) {
    return {
      kind: 'effect-without-success',
      why:
        'every attempt was refused or never delivered, yet the operation ran. Expected no ' +
        'effect: check the key and validate the request before doing any work.',
    };
  }
  return undefined;
}

export const effectsPerKey = defineChecker(
  'effectsPerKey',
  'no attempt sent an Idempotency-Key',
  (history, _context, findings) => {
    const attempts = attemptsOf(history).filter((a) => a.invoke.patternKind !== 'missing-key');
    const readings = effectReadings(history);
    for (const scope of byScope(attempts)) {
      findings.checked += 1;
      const name = keyName(scope.key, scope.tenant);
      const effects = readings.ofScope(scope.key, scope.tenant);
      if (!effects.known) {
        findings.unknowns.push({
          subject: name,
          reason: `the number of effects is unknown because ${effects.reason}`,
        });
        continue;
      }
      const rule = ruleFor(scope.attempts);
      const problem = explain(rule, effects.count);
      if (problem === undefined) continue;
      const outcomes = scope.attempts.map(describeOutcome).join(', ');
      const count = effects.count === 0 ? 'no effect' : plural(effects.count, 'effect');
      const heart =
        problem.kind === 'duplicate-effect'
          ? (scope.attempts[1] ?? scope.attempts[0])
          : scope.attempts[0];
      addAnomaly(findings, {
        kind: problem.kind,
        key: scope.key,
        tenant: scope.tenant,
        events: [...eventsOf(...scope.attempts), effects.probe.index],
        expected: EXPECTED[rule],
        actual:
          `${plural(effects.count, 'effect')} (probe '${effects.probe.label}' via ${effects.probe.source}); ` +
          `attempts: ${scope.attempts.map(describeAttemptAndOutcome).join(', ')}`,
        message: `${capitalize(name)} has ${count} after ${plural(scope.attempts.length, 'attempt')} (${outcomes}): ${problem.why}`,
        ...(heart === undefined ? {} : { curl: curlCommand(heart.invoke.request) }),
      });
    }
  },
);
