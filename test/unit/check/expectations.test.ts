import { describe, expect, it } from 'vitest';
import { stepExpectations } from '../../../src/check/expectations.js';
import type { ProbeEvent } from '../../../src/history/events.js';
import { planScenario } from '../../../src/plan/plan.js';
import type { PatternPlan } from '../../../src/plan/schedule.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';
import type { Anomaly, CheckResult } from '../../../src/check/types.js';
import { HistoryBuilder, type AttemptSpec, type ResponseSpec } from './history-builder.js';

type StepsInput = Extract<
  NonNullable<ScenarioInput['patterns']>[number],
  { kind: 'steps' }
>['steps'];

function plansOf(steps: StepsInput): PatternPlan[] {
  const scenario = scenarioSchema.parse({
    name: 'payments',
    target: { baseUrl: 'http://127.0.0.1:1', path: '/echo' },
    payload: { encoding: 'text', template: 'hello' },
    effects: { http: { url: '/counter', count: '$.count' } },
    patterns: [{ kind: 'steps', steps }],
  });
  return planScenario(scenario, PROFILES.ietf, { seed: 1, run: 'r1' });
}

const step = (label: string, extra: AttemptSpec = {}): AttemptSpec => ({
  pattern: 'steps#1',
  patternKind: 'steps',
  label,
  ...extra,
});

/** An effect reading after a step, as the executor records it. */
function counted(history: HistoryBuilder, label: string, count: number | { error: string }): void {
  const reading =
    typeof count === 'number'
      ? { ok: true as const, count }
      : { ok: false as const, error: count.error };
  const probe: ProbeEvent = {
    index: history.events.length,
    time: history.events.length * 3,
    scenario: 'payments',
    type: 'probe',
    probe: 'effects',
    source: 'http',
    pattern: 'steps#1',
    patternKind: 'steps',
    key: 'k-1',
    tenant: null,
    marker: null,
    resource: null,
    label,
    reading,
  };
  history.events.push(probe);
}

const PLANS = plansOf([
  { id: 'original', expect: { status: 200, body: { equals: 'slept:1500' }, effects: 1 } },
  {
    id: 'duplicate',
    concurrentWith: ['original'],
    expect: {
      status: 'in-flight',
      headers: {
        'Retry-After': { matches: '^[1-9][0-9]*$' },
        'Idempotency-Replayed': { absent: true },
      },
    },
  },
  {
    id: 'retry',
    expect: {
      status: 200,
      body: { sameAs: 'original' },
      headers: { 'X-Replayed': 'true' },
    },
  },
]);

function anomalyOf(result: CheckResult, kind: string): Anomaly {
  const anomaly = result.anomalies.find((found) => found.kind === kind);
  if (anomaly === undefined) throw new Error(`no ${kind} anomaly`);
  return anomaly;
}

const ORIGINAL: ResponseSpec = { status: 200, body: 'slept:1500' };
const CONFLICT: ResponseSpec = {
  status: 409,
  body: { title: 'in progress' },
  headers: [['retry-after', '1']],
};

describe('stepExpectations', () => {
  it('holds when every step got what it expects', () => {
    const history = new HistoryBuilder();
    history.send(step('step 1 (original)'), ORIGINAL);
    counted(history, 'after step 1 (original)', 1);
    history.send(step('step 2 (duplicate)'), CONFLICT);
    history.send(step('step 3 (retry)'), { ...ORIGINAL, headers: [['x-replayed', 'true']] });
    const result = stepExpectations(history.history(), { profile: PROFILES.ietf, plans: PLANS });
    expect(result.anomalies).toEqual([]);
    expect(result.checked).toBe(3);
  });

  it('says "step 2 (duplicate) expected 409, got 200" for a duplicate that was not refused', () => {
    const history = new HistoryBuilder();
    history.send(step('step 1 (original)'), ORIGINAL);
    counted(history, 'after step 1 (original)', 1);
    history.send(step('step 2 (duplicate)'), { status: 200, body: 'slept:1500' });
    const result = stepExpectations(history.history(), { profile: PROFILES.ietf, plans: PLANS });
    expect(result.valid).toBe(false);
    const status = anomalyOf(result, 'step-status');
    expect(status.message).toContain(
      'steps#1, step 2 (duplicate) expected 409 (profile ietf inFlightStatus), got 200.',
    );
    expect(status.expected).toBe('409 (profile ietf inFlightStatus)');
    expect(status.actual).toBe('200');
    expect(status.curl).toContain('curl');
    const header = anomalyOf(result, 'step-header');
    expect(header.expected).toBe('retry-after matching /^[1-9][0-9]*$/');
    expect(header.actual).toBe('no such header');
  });

  it('judges headers present, absent and equal, bodies equal, the same as an earlier step, JSON members and lengths', () => {
    const history = new HistoryBuilder();
    history.send(step('step 1 (original)'), { status: 200, body: 'slept:15' });
    counted(history, 'after step 1 (original)', 2);
    history.send(step('step 2 (duplicate)'), {
      ...CONFLICT,
      headers: [
        ['retry-after', '1'],
        ['idempotency-replayed', 'true'],
      ],
    });
    history.send(step('step 3 (retry)'), {
      status: 200,
      body: { count: 2 },
      headers: [['x-replayed', 'false']],
    });
    const result = stepExpectations(history.history(), { profile: PROFILES.ietf, plans: PLANS });
    const found = result.anomalies.map(
      (anomaly) => `${anomaly.kind}: ${anomaly.expected} / ${anomaly.actual}`,
    );
    expect(found).toEqual([
      "step-body: the body 'slept:1500' / 'slept:15'",
      'step-effects: 1 effect / 2 effects',
      "step-header: no idempotency-replayed header / idempotency-replayed: 'true'",
      "step-header: x-replayed: 'true' / 'false'",
      'step-body: the same body as step 1 (original) (8 bytes) / 11 bytes that differ',
    ]);
    expect(result.anomalies[1]?.message).toContain("probe 'after step 1 (original)' via http");
  });

  it('judges top-level JSON members and body lengths', () => {
    const plans = plansOf([
      { id: 'get', expect: { body: { json: { count: 1, ok: true }, bytes: 5 } } },
    ]);
    const history = new HistoryBuilder();
    history.send(step('step 1 (get)'), { status: 200, body: { count: 2, ok: true } });
    const result = stepExpectations(history.history(), { profile: PROFILES.ietf, plans });
    expect(result.anomalies.map((anomaly) => `${anomaly.expected} / ${anomaly.actual}`)).toEqual([
      'body member count: 1 / count: 2',
      'a body of 5 bytes / 21 bytes',
    ]);
    const text = new HistoryBuilder();
    text.send(step('step 1 (get)'), { status: 200, body: 'count=1' });
    expect(
      stepExpectations(text.history(), { profile: PROFILES.ietf, plans }).anomalies[0]?.actual,
    ).toBe("a body that is not a JSON object ('count=1')");
  });

  it('leaves a step unknown when it got no response, was never sent, or its effects were not read', () => {
    const history = new HistoryBuilder();
    history.lost(step('step 1 (original)'));
    counted(history, 'after step 1 (original)', { error: 'connect ECONNREFUSED' });
    history.send(step('step 2 (duplicate)'), CONFLICT);
    const result = stepExpectations(history.history(), { profile: PROFILES.ietf, plans: PLANS });
    expect(result.valid).toBe('unknown');
    expect(result.anomalies).toEqual([]);
    const notes = result.notes.join(' ');
    expect(notes).toContain('Steps#1, step 1 (original): it got no response (lost response)');
    expect(notes).toContain('the effect probe failed: connect ECONNREFUSED');
    expect(notes).toContain('step 3 (retry): it was never sent');
  });

  it('cannot decide a JSON or text rule on a body cut for the record, but still compares its digest', () => {
    const plans = plansOf([
      { id: 'big', expect: { body: { contains: ['zzz'], equals: 'x'.repeat(100) } } },
    ]);
    const history = new HistoryBuilder();
    history.send(step('step 1 (big)'), { status: 200, body: 'x'.repeat(100), recordedChars: 10 });
    const result = stepExpectations(history.history(), { profile: PROFILES.ietf, plans });
    expect(result.anomalies).toEqual([]);
    expect(result.valid).toBe('unknown');
  });

  it('is not applicable without scripted expectations, and ignores other patterns', () => {
    const history = new HistoryBuilder();
    history.send({ label: 'step 1 (original)' }, { status: 500 });
    expect(stepExpectations(history.history(), { profile: PROFILES.ietf }).notes).toEqual([
      'not applicable: no scripted step stated what it expects',
    ]);
    const result = stepExpectations(history.history(), { profile: PROFILES.ietf, plans: PLANS });
    expect(result.valid).toBe('unknown');
    expect(result.anomalies).toEqual([]);
  });
});
