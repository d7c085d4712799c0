import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planScenario } from '../../../src/plan/plan.js';
import type { PatternPlan, SendStep, Step } from '../../../src/plan/schedule.js';
import { differentPayload, fillPayload, fillUrl } from '../../../src/plan/template.js';
import { createRandom } from '../../../src/plan/random.js';
import { PROFILES, overrideProfile } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';

function scenario(patterns: ScenarioInput['patterns'], extra: Partial<ScenarioInput> = {}) {
  return scenarioSchema.parse({
    name: 'plan test',
    target: {
      baseUrl: 'http://127.0.0.1:1',
      path: '/things',
      tenants: { a: { authorization: 'Bearer a' }, b: { authorization: 'Bearer b' } },
    },
    payload: { template: { amount: { $int: [1, 1000] }, note: 'n-{{marker}}' } },
    effects: { http: { url: '/things?key={{key}}' } },
    patterns,
    ...extra,
  });
}

const sends = (plan: PatternPlan): SendStep[] =>
  plan.steps.flatMap((step: Step) =>
    step.kind === 'send' ? [step] : step.kind === 'burst' ? [...step.sends] : [],
  );

describe('plans', () => {
  it('are the same for the same seed and run, and differ in keys for another run', () => {
    const input = scenario([
      { kind: 'sequential-duplicates', count: 12, lanes: ['clean', 'lost-response', 'blackhole'] },
      { kind: 'distinct-keys' },
    ]);
    const first = planScenario(input, PROFILES.default, { seed: 7, run: 'r1' });
    expect(planScenario(input, PROFILES.default, { seed: 7, run: 'r1' })).toEqual(first);
    const otherRun = planScenario(input, PROFILES.default, { seed: 7, run: 'r2' });
    expect(sends(otherRun[0] as PatternPlan).map((step) => step.lane)).toEqual(
      sends(first[0] as PatternPlan).map((step) => step.lane),
    );
    expect(otherRun[0]?.operations[0]?.key).not.toBe(first[0]?.operations[0]?.key);
  });

  it('draw retry lanes from the seed', () => {
    const input = scenario([
      { kind: 'sequential-duplicates', count: 20, lanes: ['clean', 'lost-response'] },
    ]);
    const laneSets = [1, 2, 3, 4, 5].map((seed) =>
      sends(planScenario(input, PROFILES.default, { seed, run: 'r' })[0] as PatternPlan)
        .map((step) => step.lane)
        .join(','),
    );
    expect(new Set(laneSets).size).toBeGreaterThan(1);
    expect(laneSets.every((lanes) => lanes.startsWith('clean,'))).toBe(true);
  });

  it('never reuse a key or marker within a scenario', () => {
    const input = scenario([
      { kind: 'sequential-duplicates' },
      { kind: 'concurrent-burst', rounds: 4 },
      { kind: 'distinct-keys', count: 6 },
      { kind: 'cross-tenant' },
      { kind: 'missing-key' },
    ]);
    const operations = planScenario(input, PROFILES.default, { seed: 1, run: 'r' }).flatMap(
      (plan) => plan.operations,
    );
    expect(new Set(operations.map((operation) => operation.key)).size).toBe(operations.length);
    expect(new Set(operations.map((operation) => operation.marker)).size).toBe(operations.length);
  });

  it('release a burst as one step of identical requests sharing a group', () => {
    const [plan] = planScenario(
      scenario([{ kind: 'concurrent-burst', count: 6, rounds: 2 }]),
      PROFILES.default,
      { seed: 1, run: 'r' },
    );
    const bursts = plan?.steps.filter((step) => step.kind === 'burst') ?? [];
    expect(bursts).toHaveLength(2);
    for (const burst of bursts) {
      if (burst.kind !== 'burst') continue;
      expect(burst.sends).toHaveLength(6);
      expect(new Set(burst.sends.map((send) => send.op)).size).toBe(1);
      expect(new Set(burst.sends.map((send) => send.group)).size).toBe(1);
    }
  });

  it('send a different payload under the key in the mismatch pattern, then the original again', () => {
    const [plan] = planScenario(
      scenario([{ kind: 'payload-mismatch', concurrent: 3 }]),
      PROFILES.default,
      { seed: 1, run: 'r' },
    );
    const variants = sends(plan as PatternPlan).map((step) => step.variant);
    expect(variants).toEqual([
      'original',
      'different',
      'original',
      'different',
      'different',
      'different',
      'original',
      'original',
    ]);
    const operation = plan?.operations[0];
    expect(operation?.differentPayload).not.toEqual(operation?.payload);
  });

  it('leave out delayed retries beyond the declared retention, and say so', () => {
    const profile = overrideProfile(PROFILES.default, { retentionMs: 1000 });
    const [plan] = planScenario(
      scenario([{ kind: 'delayed-retries', delaysMs: [200, 500, 900] }]),
      profile,
      { seed: 1, run: 'r' },
    );
    expect(sends(plan as PatternPlan).map((step) => step.label)).toEqual([
      'original',
      'retry 1 after 200 ms',
      'retry 2 after 500 ms',
    ]);
    expect(plan?.notes[0]).toContain('retry 3 after 900 ms left out');
  });

  it('send cross-tenant requests as each tenant with one key, plus a control key', () => {
    const [plan] = planScenario(scenario([{ kind: 'cross-tenant' }]), PROFILES.default, {
      seed: 1,
      run: 'r',
    });
    const steps = sends(plan as PatternPlan);
    expect(steps.map((step) => step.tenant)).toEqual(['a', 'b', 'a', 'b', 'a']);
    expect(new Set(steps.slice(0, 4).map((step) => step.op)).size).toBe(1);
    expect(steps[4]?.op).not.toBe(steps[0]?.op);
  });

  it('act on one resource in order, then send a late duplicate, with state read before and after', () => {
    const input = scenario(
      [{ kind: 'out-of-order', operations: [{ s: 'paid' }, { s: 'shipped' }, { s: 'delivered' }] }],
      {
        target: { baseUrl: 'http://127.0.0.1:1', path: '/orders/{{resource}}' },
        state: { http: { url: '/orders/{{resource}}' } },
      },
    );
    const [plan] = planScenario(input, PROFILES.default, { seed: 1, run: 'r' });
    expect(new Set(plan?.operations.map((operation) => operation.resource)).size).toBe(1);
    expect(plan?.operations.map((operation) => operation.payload)).toEqual([
      { s: 'paid' },
      { s: 'shipped' },
      { s: 'delivered' },
    ]);
    const kinds = plan?.steps
      .filter((step) => step.kind !== 'sleep')
      .map((step) =>
        step.kind === 'send'
          ? `send ${step.op} ${step.lane}`
          : step.kind === 'probe-state'
            ? `state: ${step.label}`
            : step.kind,
      );
    expect(kinds?.slice(0, 6)).toEqual([
      'send 0 lost-response',
      'send 1 clean',
      'send 2 clean',
      'state: in-order state',
      'send 0 clean',
      'state: final state',
    ]);
  });
});

describe('templates', () => {
  const vars = {
    key: 'k/1',
    tenant: 't',
    marker: 'm-1',
    resource: 'r 1',
    run: 'run',
    n: '3',
    sink: 'http://127.0.0.1:9/sink',
  };

  it('fill URLs with percent-encoded values', () => {
    expect(fillUrl('/x/{{resource}}?key={{ key }}', vars)).toBe('/x/r%201?key=k%2F1');
  });

  it('refuse unknown variables, naming the known ones', () => {
    expect(() => fillUrl('/x/{{id}}', vars)).toThrow(
      /unknown template variable \{\{id\}\}.*known: key, tenant/,
    );
  });

  it('draw $int and $pick from the seeded source, identically for one seed', () => {
    const template = { a: { $int: [5, 9] }, b: { $pick: ['x', 'y', 'z'] }, c: ['{{marker}}'] };
    const one = fillPayload(template, vars, createRandom(4));
    expect(fillPayload(template, vars, createRandom(4))).toEqual(one);
    expect(one).toMatchObject({ c: ['m-1'] });
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const value = fillPayload(template, vars, createRandom(seed)) as { a: number; b: string };
        return value.a >= 5 && value.a <= 9 && ['x', 'y', 'z'].includes(value.b);
      }),
    );
  });

  it('always make a payload that differs from the original', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (payload) => {
        expect(differentPayload(payload, undefined)).not.toEqual(payload);
      }),
    );
    expect(differentPayload({ amount: 5, currency: 'EUR' }, { amount: 42 })).toEqual({
      amount: 42,
      currency: 'EUR',
    });
  });
});
