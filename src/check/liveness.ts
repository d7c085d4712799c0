import { attemptsOf, type Attempt } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import { describeAttempt, eventsOf, outcomeOf, respondedOf } from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { effectReadings, type EffectReadings } from './effect-count.js';
import { attemptLiveness } from './key-liveness.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { byScope, type Scope } from './scope.js';
import { capitalize, keyName, plural, statusList } from './wording.js';

/**
 * keyNotStuck: a key must not answer "in progress" (the profile's in-flight status) longer than
 * the profile's `inProgressTimeoutMs` after its last attempt started. The last attempt is the
 * latest one that may hold the key: every attempt not itself refused as in progress (a refusal
 * never starts the work). Two ways to be stuck:
 * - an in-flight refusal sent more than the timeout after the last attempt started;
 * - after an outcome the client never learnt (a lost response, a client that gave up), every
 *   later answer was in progress or a 5xx, the effect probe reads 0, and those answers go on
 *   past the timeout: the operation neither happened nor can be retried.
 * Times are the client's (an attempt's start is when it was sent), so the server had at most
 * the time measured.
 *
 * Unknown when the key's last answer was in progress, no attempt of ours could still be
 * running, and nothing was asked after the timeout. Not judged when the profile sets no
 * `inProgressTimeoutMs`.
 *
 * Must not: judge refusals sent while the key's own attempt was still running (a burst),
 * count effects beyond reading 0 (effectsPerKey does), or judge keys no attempt left in progress.
 */
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;

/** Refused as in progress (key-liveness.ts: the rule the executor's follow-ups use too). */
function isInProgress(attempt: Attempt, profile: Profile): boolean {
  return attemptLiveness(attempt.completion, profile.inFlightStatus).inProgress;
}

/** An attempt that may have started the work: delivered and not refused as in progress. */
function mayHold(attempt: Attempt, profile: Profile): boolean {
  return attemptLiveness(attempt.completion, profile.inFlightStatus).mayHold;
}

/** The latest attempt sent before history index `before` that may hold the key. */
function holderBefore(
  attempts: readonly Attempt[],
  before: number,
  profile: Profile,
): Attempt | undefined {
  return attempts.filter((other) => other.invoke.index < before && mayHold(other, profile)).at(-1);
}

function judgeScope(
  scope: Scope,
  timeoutMs: number,
  profile: Profile,
  effects: EffectReadings,
  findings: Findings,
): void {
  // A different payload's refusal may share the in-flight status (409): only originals count.
  const attempts = scope.attempts.filter((attempt) => attempt.invoke.variant === 'original');
  const refused = attempts.filter((attempt) => isInProgress(attempt, profile));
  const unknown = attempts.filter((attempt) => outcomeOf(attempt).kind === 'unknown');
  if (refused.length === 0 && unknown.length === 0) return;
  findings.checked += 1;
  const name = keyName(scope.key, scope.tenant);
  const status = statusList(profile.inFlightStatus);

  // 1. An in-flight refusal too long after the last attempt that may hold the key started.
  let latest: { attempt: Attempt; holder: Attempt | undefined; elapsed: number } | undefined;
  for (const attempt of refused) {
    const holder = holderBefore(attempts, attempt.invoke.index, profile);
    const elapsed = attempt.invoke.time - (holder?.invoke.time ?? attempt.invoke.time);
    latest = { attempt, holder, elapsed };
    if (holder === undefined || elapsed <= timeoutMs) continue;
    const answered = respondedOf(attempt)?.status ?? status;
    addAnomaly(findings, {
      kind: 'key-stuck-in-progress',
      key: scope.key,
      tenant: scope.tenant,
      events: eventsOf(holder, attempt),
      expected: `no ${status} in progress later than ${seconds(timeoutMs)} after the last attempt started`,
      actual: `${describeAttempt(attempt)} → ${answered}, ${seconds(elapsed)} after ${describeAttempt(holder)} started`,
      message:
        `${capitalize(name)} answered ${answered} in progress ${seconds(elapsed)} after its last ` +
        `attempt started (${describeAttempt(holder)}); the profile allows ${seconds(timeoutMs)}. ` +
        'Nothing can finish or free the key: release it when the work fails or the client goes ' +
        'away, and take over reservations older than the declared in-progress timeout.',
      curl: curlCommand(attempt.invoke.request),
    });
    return;
  }

  // 2. Nothing but in-progress or 5xx answers after an unknown outcome, and no effect.
  const lost = unknown.at(-1);
  if (lost !== undefined) {
    const later = attempts.filter((attempt) => attempt.invoke.index > lost.invoke.index);
    const stuck =
      later.length > 0 &&
      later.some((attempt) => isInProgress(attempt, profile)) &&
      later.every(
        (attempt) => isInProgress(attempt, profile) || outcomeOf(attempt).kind === 'server-error',
      );
    const last = later.at(-1);
    const count = effects.ofScope(scope.key, scope.tenant);
    if (stuck && last !== undefined && count.known && count.count === 0) {
      const elapsed = last.invoke.time - lost.invoke.time;
      if (elapsed > timeoutMs) {
        addAnomaly(findings, {
          kind: 'key-stuck-after-unknown-outcome',
          key: scope.key,
          tenant: scope.tenant,
          events: [...eventsOf(lost, ...later), count.probe.index],
          expected: `the operation done, or the key free again, within ${seconds(timeoutMs)}`,
          actual: `${plural(later.length, 'later answer')}, all in progress or 5xx, over ${seconds(elapsed)}; 0 effects`,
          message:
            `${capitalize(name)}: after ${describeAttempt(lost)} ended with an unknown outcome, ` +
            `every retry for ${seconds(elapsed)} got ${status} in progress or a 5xx, and the ` +
            `operation never happened (0 effects); the profile allows ${seconds(timeoutMs)}. ` +
            'The key is stuck: release or take over a reservation whose work never finished.',
          curl: curlCommand(last.invoke.request),
        });
        return;
      }
    }
  }

  // Unknown: the last answer was in progress after every attempt of ours had ended, and
  // nothing was asked once the timeout had passed.
  const final = attempts.at(-1);
  if (latest === undefined || final !== latest.attempt || latest.holder === undefined) return;
  const holders = attempts.filter(
    (attempt) => attempt.invoke.index < latest.attempt.invoke.index && mayHold(attempt, profile),
  );
  const allEnded = holders.every(
    (holder) =>
      holder.completion !== undefined && holder.completion.index < latest.attempt.invoke.index,
  );
  if (allEnded) {
    findings.unknowns.push({
      subject: name,
      reason:
        `its last answer was ${status} in progress, ${seconds(latest.elapsed)} after its last ` +
        `attempt started, and nothing was asked after the ${seconds(timeoutMs)} the profile ` +
        'allows, so whether the key stays stuck cannot be told',
    });
  }
}

export const keyNotStuck = defineChecker(
  'keyNotStuck',
  'no key answered in progress or ended with an unknown outcome',
  (history, { profile }, findings) => {
    const timeoutMs = profile.inProgressTimeoutMs;
    if (timeoutMs === null) {
      findings.notes.push(
        'not judged: the profile sets no inProgressTimeoutMs (how long a key may answer in progress).',
      );
      return;
    }
    const effects = effectReadings(history);
    for (const scope of byScope(attemptsOf(history)))
      judgeScope(scope, timeoutMs, profile, effects, findings);
  },
);
