import { attemptsOf, type Attempt } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import {
  describeAttempt,
  describeOutcome,
  eventsOf,
  isSuccess,
  respondedOf,
} from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { effectReadings, type EffectCount } from './effect-count.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { plural, statusList } from './wording.js';

/**
 * missingKeyRefused: requests sent without the Idempotency-Key header are handled as the
 * profile says. `refused`: each gets one of the listed statuses and none makes an effect
 * (counted by the probe per `marker`). `processed` (Stripe: the key is optional): each gets a
 * 2xx and the effects equal the number of 2xx answers.
 *
 * Must not: judge requests that sent a key, a 429 (rate limiting comes before any key check),
 * or assume a count when the probe cannot count by marker (then that part is unknown).
 */
const RATE_LIMITED = 'it was rate-limited (429), so the API never decided about the missing key';

function judgeStatus(attempt: Attempt, profile: Profile, findings: Findings): void {
  const responded = respondedOf(attempt);
  if (responded === undefined) return;
  const { status } = responded;
  const refused = profile.missingKey.expect === 'refused';
  const allowed = profile.missingKey.expect === 'refused' ? profile.missingKey.status : [];
  if (refused ? allowed.includes(status) : isSuccess(status)) return;
  const who = describeAttempt(attempt);
  if (status === 429) {
    findings.unknowns.push({ subject: who, reason: RATE_LIMITED });
    return;
  }
  const base = {
    key: null,
    tenant: attempt.invoke.tenant,
    events: eventsOf(attempt),
    curl: curlCommand(attempt.invoke.request),
  };
  if (refused) {
    const accepted = isSuccess(status);
    addAnomaly(findings, {
      ...base,
      kind: accepted ? 'missing-key-accepted' : 'missing-key-wrong-status',
      expected: `${statusList(allowed)} (profile missingKey.status)`,
      actual: String(status),
      message: accepted
        ? `${who} was sent without an Idempotency-Key and got ${status}: the API processed it. A client that forgets the key loses all protection against retries; refuse the request with ${statusList(allowed)}.`
        : `${who} was sent without an Idempotency-Key and got ${status}. Expected ${statusList(allowed)}, so the client learns that the key is required.`,
    });
    return;
  }
  addAnomaly(findings, {
    ...base,
    kind: 'missing-key-wrong-status',
    expected: 'a 2xx (profile missingKey.expect: processed)',
    actual: String(status),
    message: `${who} was sent without an Idempotency-Key and got ${status}, but the profile says a request without a key is processed normally (missingKey.expect: processed). Fix the API, or set missingKey.expect to 'refused' if the key is required.`,
  });
}

function judgeEffects(
  marker: string,
  attempts: readonly Attempt[],
  effects: EffectCount,
  profile: Profile,
  findings: Findings,
): void {
  const subject = `requests without a key (marker '${marker}')`;
  if (!effects.known) {
    findings.unknowns.push({
      subject,
      reason: `their effects are unknown because ${effects.reason}`,
    });
    return;
  }
  const successes = attempts.filter((attempt) => {
    const r = respondedOf(attempt);
    return r !== undefined && isSuccess(r.status);
  }).length;
  const maybe = attempts.filter(
    (attempt) => attempt.completion === undefined || attempt.completion.type === 'info',
  ).length;
  // Each request answered 2xx made one effect, each refused one none, whatever the profile
  // says about keys: a 2xx where a refusal was due is missingKeyRefused's status finding.
  const [low, high] = [successes, successes + maybe];
  if (effects.count >= low && effects.count <= high) return;
  const outcomes = attempts.map(describeOutcome).join(', ');
  const expected = low === high ? plural(low, 'effect') : `${low} to ${high} effects`;
  const first = attempts[0];
  // More effects than 2xx answers: requests refused (or failed) still did the work.
  const refusedButDone = effects.count > high;
  addAnomaly(findings, {
    kind: refusedButDone ? 'missing-key-made-effect' : 'missing-key-wrong-effects',
    key: null,
    tenant: first?.invoke.tenant ?? null,
    events: [...eventsOf(...attempts), effects.probe.index],
    expected,
    actual: `${plural(effects.count, 'effect')} after ${plural(attempts.length, 'attempt')} (${outcomes})`,
    ...(first === undefined ? {} : { curl: curlCommand(first.invoke.request) }),
    message: refusedButDone
      ? `Requests sent without an Idempotency-Key (marker '${marker}', ${outcomes}) made ${plural(effects.count, 'effect')}, but only ${plural(successes, 'attempt')} got a 2xx: expected ${expected}. The API did the work of a request it refused; check for the key before doing anything.`
      : `Requests sent without an Idempotency-Key (marker '${marker}', ${outcomes}) made ${plural(effects.count, 'effect')}, but ${plural(successes, 'attempt')} got a 2xx: expected ${expected}. Each processed request without a key should make exactly one effect.`,
  });
}

export const missingKeyRefused = defineChecker(
  'missingKeyRefused',
  'no request was sent without its Idempotency-Key',
  (history, { profile }, findings) => {
    // Scripted steps leave the key out on purpose; stepExpectations judges them.
    const keyless = attemptsOf(history).filter(
      (attempt) => !attempt.invoke.keySent && attempt.invoke.patternKind !== 'steps',
    );
    const readings = effectReadings(history);
    const byMarker = new Map<string, Attempt[]>();
    for (const attempt of keyless) {
      byMarker.set(attempt.invoke.marker, [
        ...(byMarker.get(attempt.invoke.marker) ?? []),
        attempt,
      ]);
    }
    for (const [marker, attempts] of byMarker) {
      findings.checked += 1;
      for (const attempt of attempts) judgeStatus(attempt, profile, findings);
      judgeEffects(marker, attempts, readings.ofMarker(marker), profile, findings);
    }
  },
);
