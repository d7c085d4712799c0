import { describe, expect, it } from 'vitest';
import { planScenario } from '../../../src/plan/plan.js';
import { overrideOf, statusRuleOf } from '../../../src/plan/patterns/steps.js';
import type { PatternPlan, SendStep, Step } from '../../../src/plan/schedule.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';

type StepsInput = Extract<
  NonNullable<ScenarioInput['patterns']>[number],
  { kind: 'steps' }
>['steps'];

function plan(steps: StepsInput, profile = PROFILES.ietf): PatternPlan {
  const scenario = scenarioSchema.parse({
    name: 'steps test',
    target: { baseUrl: 'http://127.0.0.1:1', path: '/echo' },
    payload: { encoding: 'text', template: 'hello' },
    effects: { http: { url: '/counter', count: '$.count' } },
    settleMs: 0,
    patterns: [{ kind: 'steps', steps }],
  });
  const plans = planScenario(scenario, profile, { seed: 1, run: 'r1' });
  if (plans[0] === undefined) throw new Error('no plan');
  return plans[0];
}

/** "send:label[:bg]", "sleep:ms", "join", "probe:label": the plan's shape at a glance. */
const shape = (steps: readonly Step[]): string[] =>
  steps.flatMap((step) => {
    switch (step.kind) {
      case 'send':
        return [`send:${step.label}${step.background ? ':bg' : ''}`];
      case 'sleep':
        return [`sleep:${step.ms}`];
      case 'join':
        return ['join'];
      case 'probe-effects':
        return [`probe:${step.label}`];
      default:
        return [];
    }
  });

const sends = (result: PatternPlan): SendStep[] =>
  result.steps.filter((step): step is SendStep => step.kind === 'send');

describe('the steps planner', () => {
  it('sends the steps a concurrent group names in the background, then awaits the group and reads its effects once', () => {
    const result = plan([
      { id: 'original', path: '/slow?ms=1500', expect: { effects: 1 } },
      { id: 'duplicate', concurrentWith: ['original'], delayMs: 300, expect: { effects: 1 } },
      { id: 'later', delayMs: 2500 },
    ]);
    expect(shape(result.steps)).toEqual([
      'send:step 1 (original):bg',
      'sleep:300',
      'send:step 2 (duplicate)',
      'join',
      'probe:after step 2 (duplicate)',
      'probe:after step 1 (original)',
      'sleep:2500',
      'send:step 3 (later)',
    ]);
    expect(result.kind).toBe('steps');
  });

  it('keeps one key until a step asks for a new one, and sends none or a literal on request', () => {
    const result = plan([
      { id: 'a' },
      { id: 'b' },
      { id: 'c', key: 'new' },
      { id: 'd', key: 'none' },
      { id: 'e', key: { literal: '' } },
    ]);
    const [a, b, c, d, e] = sends(result);
    expect(a?.op).toBe(b?.op);
    expect(c?.op).not.toBe(a?.op);
    expect(d?.op).toBe(c?.op);
    expect(d?.keySent).toBe(false);
    expect(e?.keySent).toBe(true);
    expect(e?.override?.key).toBe('');
    expect(result.operations[a?.op ?? -1]?.key).not.toBe(result.operations[c?.op ?? -1]?.key);
  });

  it('turns each step into a request override with only the fields it changes', () => {
    expect(overrideOf({ id: 'a', key: 'same', lane: 'clean', delayMs: 0 })).toBeUndefined();
    expect(
      overrideOf({
        id: 'a',
        key: { literal: 'k' },
        lane: 'clean',
        delayMs: 0,
        method: 'GET',
        path: '/counter',
        query: { a: '1', b: null },
        headers: { 'idempotency-key': '{{key}}' },
        encoding: 'none',
      }),
    ).toEqual({
      method: 'GET',
      path: '/counter',
      query: { a: '1', b: null },
      headers: { 'idempotency-key': '{{key}}' },
      body: { value: undefined, encoding: 'none' },
      key: 'k',
    });
  });

  it("resolves profile statuses from the scenario's profile, naming where they come from", () => {
    expect(statusRuleOf('mismatch', PROFILES.ietf)).toEqual({
      allowed: [422],
      source: 'profile ietf mismatchStatus',
    });
    expect(statusRuleOf('mismatch', PROFILES.stripe).allowed).toEqual([400]);
    expect(statusRuleOf('in-flight', PROFILES.default).allowed).toEqual([409]);
    expect(statusRuleOf('missing-key', PROFILES.stripe)).toEqual({
      allowed: 'success',
      source: 'profile stripe missingKey: processed',
    });
    expect(statusRuleOf('2xx', PROFILES.ietf)).toEqual({ allowed: 'success', source: null });
    expect(statusRuleOf([200, 201], PROFILES.ietf).allowed).toEqual([200, 201]);
  });

  it('records each expectation with its step, label, rules and the probe that reads its effects', () => {
    const result = plan([
      { id: 'first', expect: { status: 201, body: { equals: 'hello' } } },
      {
        id: 'retry',
        expect: {
          status: 'mismatch',
          headers: {
            'Idempotency-Replayed': 'true',
            'Retry-After': { matches: '^1$' },
            X: { absent: true },
          },
          body: { sameAs: 'first', json: { code: 'x' }, bytes: 3, contains: ['a'] },
          effects: 1,
        },
      },
      { id: 'silent' },
    ]);
    expect(result.expectations).toEqual([
      {
        step: 1,
        id: 'first',
        label: 'step 1 (first)',
        status: { allowed: [201], source: null },
        headers: [],
        body: [{ rule: 'equals', text: 'hello' }],
        effects: null,
      },
      {
        step: 2,
        id: 'retry',
        label: 'step 2 (retry)',
        status: { allowed: [422], source: 'profile ietf mismatchStatus' },
        headers: [
          { name: 'idempotency-replayed', rule: 'equals', value: 'true' },
          { name: 'retry-after', rule: 'matches', pattern: '^1$' },
          { name: 'x', rule: 'absent' },
        ],
        body: [
          { rule: 'same-as', id: 'first', step: 1, label: 'step 1 (first)' },
          { rule: 'contains', text: 'a' },
          { rule: 'json', path: 'code', value: 'x' },
          { rule: 'bytes', bytes: 3 },
        ],
        effects: { count: 1, probeLabel: 'after step 2 (retry)' },
      },
    ]);
  });

  it('plans the same script for the same seed', () => {
    const steps: StepsInput = [
      { id: 'a', expect: { effects: 1 } },
      { id: 'b', key: 'new' },
    ];
    expect(plan(steps)).toEqual(plan(steps));
  });
});
