import {
  attemptsOf,
  type Attempt,
  type DownstreamEvent,
  type HistoryEvent,
} from '../history/events.js';
import { eventsOf, outcomeOf } from './attempt-outcome.js';
import { addAnomaly, defineChecker } from './findings.js';
import { keyName, listWithMore, plural } from './wording.js';

/**
 * Checks of the target's calls to a downstream (the sink programmed as a payment gateway or a
 * carrier, recorded as `downstream` events):
 * - downstreamEffectsPerKey: per key (or marker), the downstream did the work at most once,
 *   and exactly once when the target answered the operation 2xx. Processed calls with the same
 *   forwarded key are one effect (the downstream dedupes by it); a call without one is its own.
 * - forwardedKeyStable: where the scenario declares the forwarded key header, every call for
 *   one key carries it, with the same value.
 *
 * Must not: read anything but the history, or judge the target's own effects (effectsPerKey
 * does). Both are not applicable when the history holds no downstream call.
 */

/** Downstream calls per token, in call order. */
function callsByToken(history: readonly HistoryEvent[]): Map<string, DownstreamEvent[]> {
  const byToken = new Map<string, DownstreamEvent[]>();
  for (const event of history) {
    if (event.type !== 'downstream') continue;
    const calls = byToken.get(event.token) ?? [];
    calls.push(event);
    byToken.set(event.token, calls);
  }
  for (const calls of byToken.values()) calls.sort((a, b) => a.call - b.call);
  return byToken;
}

/** The attempts of the operation a token names: its key, or its marker. */
function attemptsByToken(history: readonly HistoryEvent[]): Map<string, Attempt[]> {
  const byToken = new Map<string, Attempt[]>();
  const add = (token: string, attempt: Attempt): void => {
    const attempts = byToken.get(token) ?? [];
    if (!attempts.includes(attempt)) attempts.push(attempt);
    byToken.set(token, attempts);
  };
  for (const attempt of attemptsOf(history)) {
    if (attempt.invoke.key !== null) add(attempt.invoke.key, attempt);
    add(attempt.invoke.marker, attempt);
  }
  return byToken;
}

/** The effects the downstream made: one per distinct forwarded key, one per call without. */
export function downstreamEffects(calls: readonly DownstreamEvent[]): DownstreamEvent[][] {
  const effects: DownstreamEvent[][] = [];
  const byKey = new Map<string, DownstreamEvent[]>();
  for (const call of calls) {
    if (!call.processed) continue;
    if (call.forwardedKey === null) {
      effects.push([call]);
      continue;
    }
    const same = byKey.get(call.forwardedKey);
    if (same !== undefined) same.push(call);
    else {
      const effect = [call];
      byKey.set(call.forwardedKey, effect);
      effects.push(effect);
    }
  }
  return effects;
}

/** "calls 1 (drop) and 2 (ok)" */
function callList(calls: readonly DownstreamEvent[]): string {
  const words = calls.map((call) => `${call.call} (${call.answer})`);
  return `${calls.length === 1 ? 'call' : 'calls'} ${listWithMore(words, 8)}`;
}

function subjectOf(token: string, attempts: readonly Attempt[]): string {
  const first = attempts[0];
  if (first === undefined) return `'${token}'`;
  return first.invoke.key === token
    ? keyName(token, first.invoke.tenant)
    : `the operation with marker '${token}'`;
}

/** Why the downstream did the work more than once, in the user's words. */
function causeOf(effects: readonly DownstreamEvent[][]): string {
  const firsts = effects.map((effect) => effect[0]).filter((call) => call !== undefined);
  if (firsts.some((call) => call.forwardedKey === null)) {
    const header = firsts.find((call) => call.forwardedHeader !== undefined)?.forwardedHeader;
    return header === undefined
      ? 'the calls carry no key the downstream can dedupe by, so each retry of the call is a new request to it'
      : `the target called without a forwarded key (${header}), so the downstream could not tell its retry from a new request`;
  }
  return 'the target retried its call with a new key, so the downstream could not tell its retry from a new request';
}

export const downstreamEffectsPerKey = defineChecker(
  'downstreamEffectsPerKey',
  'the target made no call to the programmed downstream (sink `downstream`)',
  (history, _context, findings) => {
    const attempts = attemptsByToken(history);
    for (const [token, calls] of callsByToken(history)) {
      findings.checked += 1;
      const ofToken = attempts.get(token) ?? [];
      const subject = subjectOf(token, ofToken);
      const tenant = ofToken[0]?.invoke.tenant ?? null;
      const key = ofToken[0]?.invoke.key ?? null;
      const effects = downstreamEffects(calls);
      const succeeded = ofToken.filter((attempt) => outcomeOf(attempt).kind === 'success');
      const events = [...calls.map((call) => call.index), ...eventsOf(...succeeded)];
      if (effects.length > 1) {
        addAnomaly(findings, {
          kind: 'downstream-duplicate-effect',
          key,
          tenant,
          events,
          expected: 'at most 1 downstream effect',
          actual: `${plural(effects.length, 'downstream effect')} from ${plural(calls.length, 'call')}`,
          message:
            `The downstream was called ${plural(calls.length, 'time')} for ${subject} and did ` +
            `the work ${plural(effects.length, 'time')} (${callList(calls)}): ${causeOf(effects)}. ` +
            'Forward one key per operation, derived from the idempotency key, on every call and retry.',
        });
      } else if (effects.length === 0 && succeeded.length > 0) {
        addAnomaly(findings, {
          kind: 'downstream-effect-missing',
          key,
          tenant,
          events,
          expected: 'exactly 1 downstream effect (the target answered 2xx)',
          actual: `no downstream effect from ${plural(calls.length, 'call')}`,
          message:
            `The target answered ${subject} with success, but the downstream never did the ` +
            `work (${callList(calls)}): the target reported success without its downstream's ` +
            'answer. Answer 2xx only once the downstream has processed the call.',
        });
      }
    }
  },
);

export const forwardedKeyStable = defineChecker(
  'forwardedKeyStable',
  'no downstream call with a declared forwarded key header (sink `downstream.forwardedKey`)',
  (history, _context, findings) => {
    const attempts = attemptsByToken(history);
    for (const [token, calls] of callsByToken(history)) {
      const header = calls.find((call) => call.forwardedHeader !== undefined)?.forwardedHeader;
      if (header === undefined) continue;
      findings.checked += 1;
      const ofToken = attempts.get(token) ?? [];
      const subject = subjectOf(token, ofToken);
      const tenant = ofToken[0]?.invoke.tenant ?? null;
      const key = ofToken[0]?.invoke.key ?? null;
      const missing = calls.filter((call) => call.forwardedKey === null);
      if (missing.length > 0) {
        addAnomaly(findings, {
          kind: 'forwarded-key-missing',
          key,
          tenant,
          events: missing.map((call) => call.index),
          expected: `every downstream call carries ${header}`,
          actual: `${callList(missing)} without ${header}`,
          message:
            `The target called the downstream for ${subject} without ${header} ` +
            `(${callList(missing)}): the downstream cannot dedupe its retries, so a lost ` +
            'answer makes a second charge or booking. Forward a key derived from the idempotency key.',
        });
      }
      const carried = calls.filter((call) => call.forwardedKey !== null);
      const values = [...new Set(carried.map((call) => call.forwardedKey))];
      if (values.length > 1) {
        const changes = carried.filter(
          (call, position) =>
            position > 0 && call.forwardedKey !== carried[position - 1]?.forwardedKey,
        );
        addAnomaly(findings, {
          kind: 'forwarded-key-changed',
          key,
          tenant,
          events: carried.map((call) => call.index),
          expected: `one ${header} value for every call`,
          actual: `${plural(values.length, 'value')}: ${listWithMore(
            values.map((value) => `'${value ?? ''}'`),
            4,
          )}`,
          message:
            `The target changed ${header} between its calls to the downstream for ${subject} ` +
            `(new value at ${callList(changes)}): each retry looks like a new request, so ` +
            'the downstream does the work again. Derive the forwarded key from the idempotency key, not per call.',
        });
      }
    }
  },
);
