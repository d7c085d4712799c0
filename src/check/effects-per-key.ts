import { attemptsOf, type Attempt, type ProbeEvent } from '../history/events.js';
import { afterRetentionScopes } from './after-retention.js';
import {
  describeAttemptAndOutcome,
  describeOutcome,
  eventsOf,
  outcomeOf,
} from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { effectReadings, type EffectCount } from './effect-count.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { byScope, scopeId, type Scope } from './scope.js';
import { capitalize, keyName, plural } from './wording.js';

/**
 * effectsPerKey: each key (per tenant) has the number of effects its attempts allow.
 * - some attempt succeeded (2xx): exactly one effect;
 * - otherwise, some outcome unknown or a 5xx (or another non-4xx status): at most one;
 * - otherwise (every attempt refused with a 4xx or certainly not delivered): none.
 * Retries sent on purpose past the declared retention start the key's second life: the
 * effects read before the retention ended are judged as above, and the rest by the same rules
 * over the late attempts (so a key that succeeded in both lives has exactly 2 effects).
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

/** A retry past the retention got the old key's replay: nothing was executed again. */
const NOT_EXECUTED_AGAIN =
  'the key still replayed after the declared retention. Expected it to execute again ' +
  '(one new effect): stored keys must expire after the retention the profile declares, or ' +
  'the declared retentionMs is wrong.';

interface Judged {
  readonly scope: Scope;
  /** The attempts the count is about, in invoke order. */
  readonly attempts: readonly Attempt[];
  readonly rule: Rule;
  readonly count: number;
  readonly probe: ProbeEvent;
  /** e.g. " after the retention" when only part of the key's attempts is judged. */
  readonly part: string;
}

function judge(findings: Findings, judged: Judged): void {
  const { scope, attempts, rule, count, probe, part } = judged;
  const problem =
    part !== '' && rule === 'exactly one' && count === 0
      ? { kind: 'not-executed-after-retention', why: NOT_EXECUTED_AGAIN }
      : explain(rule, count);
  if (problem === undefined) return;
  const name = keyName(scope.key, scope.tenant);
  const outcomes = attempts.map(describeOutcome).join(', ');
  const shown = count === 0 ? 'no effect' : plural(count, 'effect');
  const heart = problem.kind === 'duplicate-effect' ? (attempts[1] ?? attempts[0]) : attempts[0];
  addAnomaly(findings, {
    kind: problem.kind,
    key: scope.key,
    tenant: scope.tenant,
    events: [...eventsOf(...attempts), probe.index],
    expected: `${EXPECTED[rule]}${part}`,
    actual:
      `${plural(count, 'effect')}${part} (probe '${probe.label}' via ${probe.source}); ` +
      `attempts: ${attempts.map(describeAttemptAndOutcome).join(', ')}`,
    message: `${capitalize(name)} has ${shown}${part} after ${plural(attempts.length, 'attempt')} (${outcomes}): ${problem.why}`,
    ...(heart === undefined ? {} : { curl: curlCommand(heart.invoke.request) }),
  });
}

/**
 * A key of an out-of-order pattern that no effect probe read: a scenario without `effects`,
 * judged by its state probe (outOfOrderFinalState) alone.
 */
function judgedByState(scope: Scope, effects: EffectCount): boolean {
  return (
    !effects.known &&
    effects.probe === undefined &&
    scope.attempts.every((attempt) => attempt.invoke.patternKind === 'out-of-order')
  );
}

export const effectsPerKey = defineChecker(
  'effectsPerKey',
  'no attempt sent an Idempotency-Key',
  (history, _context, findings) => {
    const attempts = attemptsOf(history).filter((a) => a.invoke.patternKind !== 'missing-key');
    const readings = effectReadings(history);
    const expired = afterRetentionScopes(history);
    for (const scope of byScope(attempts)) {
      const effects = readings.ofScope(scope.key, scope.tenant);
      if (judgedByState(scope, effects)) continue;
      findings.checked += 1;
      const name = keyName(scope.key, scope.tenant);
      const late = expired.get(scopeId(scope.key, scope.tenant));
      const before = late === undefined ? effects : late.before;
      for (const count of late === undefined ? [effects] : [effects, late.before]) {
        if (!count.known) {
          findings.unknowns.push({
            subject: name,
            reason: `the number of effects is unknown because ${count.reason}`,
          });
        }
      }
      if (!effects.known || !before.known) continue;
      const rule = ruleFor(scope.attempts);
      if (late === undefined) {
        judge(findings, { scope, attempts: scope.attempts, rule, ...effects, part: '' });
        continue;
      }
      // Retries past the retention: each life of the key is judged on its own.
      judge(findings, {
        scope,
        attempts: scope.attempts,
        rule,
        ...before,
        part: ' before the retention ended',
      });
      judge(findings, {
        scope,
        attempts: late.attempts,
        rule: ruleFor(late.attempts),
        count: effects.count - before.count,
        probe: effects.probe,
        part: ' after the retention',
      });
    }
  },
);
