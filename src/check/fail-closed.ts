import { attemptsOf, type Attempt, type DependencyEvent } from '../history/events.js';
import { describeAttempt, eventsOf, isSuccess, respondedOf } from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { effectReadings } from './effect-count.js';
import { addAnomaly, defineChecker } from './findings.js';
import type { CheckContext } from './types.js';
import { keyName } from './wording.js';

/**
 * failClosed: while a dependency fault is held (between its `dependency-fault` and
 * `dependency-heal` events) on a pattern that expects the API to fail closed (the default for
 * `down` and `timeout`), an attempt sent and answered in that window gets no 2xx, and its key
 * has no effect unless a later retry, after the heal, succeeded (then exactly one, which
 * effectsPerKey judges).
 *
 * Must not: judge attempts answered after the heal, patterns that expect `any`, or guess an
 * effect count the probe did not report (that part is unknown).
 */

/** The faults an API must fail closed on when the pattern does not say. */
const FAIL_CLOSED_BY_DEFAULT = new Set(['down', 'timeout']);

interface Window {
  readonly fault: DependencyEvent;
  /** Index of the heal event; the end of the history when it was never healed. */
  readonly healedAt: number;
  readonly expect: 'fail-closed' | 'any';
}

function expectOf(fault: DependencyEvent, context: CheckContext): 'fail-closed' | 'any' {
  const plan = context.plans?.find((candidate) => candidate.id === fault.pattern);
  for (const step of plan?.steps ?? []) {
    if (step.kind === 'dependency-fault' && step.dependency === fault.dependency)
      return step.expect;
  }
  return FAIL_CLOSED_BY_DEFAULT.has(fault.fault) ? 'fail-closed' : 'any';
}

function windowsOf(history: Parameters<typeof attemptsOf>[0], context: CheckContext): Window[] {
  const windows: Window[] = [];
  const open = new Map<string, DependencyEvent>();
  const close = (fault: DependencyEvent, healedAt: number): void => {
    windows.push({ fault, healedAt, expect: expectOf(fault, context) });
  };
  for (const event of history) {
    if (event.type !== 'dependency-fault' && event.type !== 'dependency-heal') continue;
    const id = `${event.pattern}\u0000${event.dependency}`;
    const held = open.get(id);
    if (event.type === 'dependency-fault') {
      if (held !== undefined) close(held, event.index);
      open.set(id, event);
    } else if (held !== undefined) {
      open.delete(id);
      close(held, event.index);
    }
  }
  for (const held of open.values()) close(held, Number.POSITIVE_INFINITY);
  return windows;
}

/** "the store was down", "the store hung", "the store was slow"… */
function wasFaulted(fault: DependencyEvent): string {
  const name = `the ${fault.dependency}`;
  switch (fault.fault) {
    case 'down':
      return `${name} was down`;
    case 'timeout':
      return `${name} hung (no data flowed)`;
    case 'reset':
      return `${name} reset every connection`;
    case 'cut':
      return `${name}'s connections were cut mid-transaction`;
    case 'latency':
      return `${name} was slow`;
    case 'bandwidth':
      return `${name} was throttled`;
    default:
      return `${name} was faulted (${fault.fault})`;
  }
}

export const failClosed = defineChecker(
  'failClosed',
  'no dependency fault that expects the API to fail closed',
  (history, context, findings) => {
    const windows = windowsOf(history, context).filter((window) => window.expect === 'fail-closed');
    if (windows.length === 0) return;
    const attempts = attemptsOf(history);
    const effects = effectReadings(history);
    for (const window of windows) {
      const { fault, healedAt } = window;
      const during = attempts.filter(
        (attempt) =>
          attempt.invoke.pattern === fault.pattern &&
          attempt.invoke.index > fault.index &&
          attempt.completion !== undefined &&
          attempt.completion.index < healedAt,
      );
      findings.checked += 1;
      const what = wasFaulted(fault);
      const keys = new Map<string, Attempt[]>();
      for (const attempt of during) {
        const responded = respondedOf(attempt);
        if (attempt.invoke.key !== null) {
          const scope = JSON.stringify([attempt.invoke.tenant, attempt.invoke.key]);
          keys.set(scope, [...(keys.get(scope) ?? []), attempt]);
        }
        if (responded === undefined || !isSuccess(responded.status)) continue;
        addAnomaly(findings, {
          kind: 'failed-open',
          key: attempt.invoke.key,
          tenant: attempt.invoke.tenant,
          events: [fault.index, ...eventsOf(attempt)],
          expected: `no 2xx while ${fault.detail}`,
          actual: `${attempt.invoke.label} → ${responded.status}`,
          message:
            `${what}; the API answered ${responded.status} to ${describeAttempt(attempt)}: it ` +
            'failed open. A service that cannot reach the store its keys live in cannot know ' +
            'whether the key was used: answer 503 with Retry-After and do no work.',
          curl: curlCommand(attempt.invoke.request),
        });
      }
      for (const group of keys.values()) {
        const first = group[0];
        if (first === undefined || first.invoke.key === null) continue;
        const { key, tenant } = first.invoke;
        const retried = attempts.some(
          (attempt) =>
            attempt.invoke.key === key &&
            attempt.invoke.tenant === tenant &&
            attempt.invoke.index > healedAt &&
            isSuccess(respondedOf(attempt)?.status ?? 0),
        );
        // A later retry succeeded: exactly one effect, which effectsPerKey judges. A 2xx in the
        // window is reported above; effectsPerKey judges its count too.
        const answered = group.some((attempt) => isSuccess(respondedOf(attempt)?.status ?? 0));
        if (retried || answered) continue;
        const count = effects.ofScope(key, tenant);
        if (!count.known) {
          findings.unknowns.push({ subject: keyName(key, tenant), reason: count.reason });
          continue;
        }
        if (count.count === 0) continue;
        addAnomaly(findings, {
          kind: 'effect-while-dependency-failed',
          key,
          tenant,
          events: [fault.index, ...eventsOf(...group), count.probe.index],
          expected: 'no effect: no retry succeeded after the heal',
          actual: `${count.count} effect${count.count === 1 ? '' : 's'}`,
          message:
            `${what} while ${describeAttempt(first)} was in flight, no later retry succeeded, ` +
            `yet the key has ${count.count} effect${count.count === 1 ? '' : 's'}: the work ` +
            'was done without the key being recorded. Fail closed: do no work when the key ' +
            'store cannot be reached.',
          curl: curlCommand(first.invoke.request),
        });
      }
    }
  },
);
