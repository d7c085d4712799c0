import { describe, expect, it } from 'vitest';
import { failClosed } from '../../../src/check/fail-closed.js';
import type { DependencyEvent } from '../../../src/history/events.js';
import type { PatternPlan } from '../../../src/plan/schedule.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';

const PATTERN = 'dependency-fault#1';
const at = { pattern: PATTERN, patternKind: 'dependency-fault' } as const;
const unavailable = {
  status: 503,
  headers: [['retry-after', '1']] as [string, string][],
  body: { title: 'Store unavailable' },
};

function dependency(h: HistoryBuilder, type: DependencyEvent['type'], fault = 'down'): void {
  const last = h.events.at(-1);
  h.events.push({
    index: h.events.length,
    time: (last?.time ?? 0) + 1,
    scenario: 'payments',
    type,
    dependency: 'store',
    fault,
    detail: `${fault} on store (127.0.0.1:16379 → 127.0.0.1:5432)`,
    pattern: PATTERN,
  });
}

const check = (h: HistoryBuilder, plans?: PatternPlan[]) =>
  failClosed(h.history(), { profile: PROFILES.default, ...(plans ? { plans } : {}) });

describe('failClosed', () => {
  it('holds when the API refuses with 503 while the store is down and one retry succeeds after the heal', () => {
    const h = new HistoryBuilder();
    dependency(h, 'dependency-fault');
    h.send({ ...at, label: 'original (store down)' }, unavailable);
    dependency(h, 'dependency-heal');
    h.send({ ...at, label: 'retry 1 (store healed)' }, { status: 201, body: payment('pay_1') });
    h.effects(1);
    expect(check(h)).toMatchObject({ valid: true, checked: 1, anomalies: [] });
  });

  it('reports a 2xx answered while the store was down: it failed open', () => {
    const h = new HistoryBuilder();
    dependency(h, 'dependency-fault');
    h.send({ ...at, label: 'original (store down)' }, { status: 201, body: payment('pay_1') });
    dependency(h, 'dependency-heal');
    h.send({ ...at, label: 'retry 1 (store healed)' }, { status: 201, body: payment('pay_2') });
    h.effects(2);
    const result = check(h);
    expect(result.valid).toBe(false);
    expect(result.anomalies.map((a) => a.kind)).toEqual(['failed-open']);
    expect(result.anomalies[0]?.message).toMatch(
      /^the store was down; the API answered 201 to 'original \(store down\)' \(lane clean\): it failed open/,
    );
    expect(result.anomalies[0]?.events).toContain(0);
  });

  it('reports an effect of a key whose attempts all failed while the store was down and no retry succeeded', () => {
    const h = new HistoryBuilder();
    dependency(h, 'dependency-fault');
    h.send(at, unavailable);
    dependency(h, 'dependency-heal');
    h.send(at, {
      status: 409,
      headers: [['retry-after', '1']] as [string, string][],
      body: { title: 'in progress' },
    });
    h.effects(1);
    expect(check(h).anomalies.map((a) => a.kind)).toEqual(['effect-while-dependency-failed']);
  });

  it('is unknown when the effect count is unknown and no retry succeeded', () => {
    const h = new HistoryBuilder();
    dependency(h, 'dependency-fault', 'timeout');
    h.timedOut(at);
    dependency(h, 'dependency-heal', 'timeout');
    h.effects({ error: 'connection refused' });
    const result = check(h);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toContain('the effect probe failed');
  });

  it('does not judge attempts answered after the heal, nor faults that expect any answer', () => {
    const h = new HistoryBuilder();
    dependency(h, 'dependency-fault', 'latency');
    h.send(at, { status: 201, body: payment('pay_1') });
    dependency(h, 'dependency-heal', 'latency');
    h.effects(1);
    expect(check(h)).toMatchObject({ valid: true, checked: 0 });
    expect(check(h).notes[0]).toMatch(/^not applicable/);

    const late = new HistoryBuilder();
    dependency(late, 'dependency-fault');
    const invoke = late.invoke(at);
    dependency(late, 'dependency-heal');
    late.ok(invoke, { status: 201, body: payment('pay_1') });
    late.effects(1);
    expect(check(late)).toMatchObject({ valid: true, checked: 1 });
  });

  it('takes the expectation from the plan: fail-closed asked for a latency fault', () => {
    const h = new HistoryBuilder();
    dependency(h, 'dependency-fault', 'latency');
    h.send(at, { status: 201, body: payment('pay_1') });
    dependency(h, 'dependency-heal', 'latency');
    h.effects(1);
    const plan: PatternPlan = {
      id: PATTERN,
      kind: 'dependency-fault',
      name: PATTERN,
      headers: {},
      operations: [],
      notes: [],
      steps: [
        {
          kind: 'dependency-fault',
          dependency: 'store',
          fault: { kind: 'latency', ms: 100, direction: 'replies' },
          expect: 'fail-closed',
        },
      ],
    };
    expect(check(h, [plan]).anomalies.map((a) => a.kind)).toEqual(['failed-open']);
  });

  it('treats a fault never healed as held to the end of the history', () => {
    const h = new HistoryBuilder();
    dependency(h, 'dependency-fault');
    h.send(at, { status: 200, body: payment('pay_1') });
    expect(check(h).anomalies.map((a) => a.kind)).toContain('failed-open');
  });
});
