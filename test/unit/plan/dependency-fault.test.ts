import { describe, expect, it } from 'vitest';
import { planScenario } from '../../../src/plan/plan.js';
import type { PatternPlan } from '../../../src/plan/schedule.js';
import { assertScenarioHosts } from '../../../src/run/run-scenario.js';
import { crossFieldProblems } from '../../../src/scenario/cross-field.js';
import { templateProblems } from '../../../src/scenario/templates.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';

function scenario(patterns: ScenarioInput['patterns']) {
  return scenarioSchema.parse({
    name: 'dependency test',
    target: { baseUrl: 'http://127.0.0.1:1', path: '/payments' },
    payload: { template: { amount: 1 } },
    effects: { http: { url: '/payments?key={{key}}' } },
    dependencies: { store: { listen: '127.0.0.1:16379', upstream: '127.0.0.1:6379' } },
    patterns,
  });
}

const shape = (plan: PatternPlan): string[] =>
  plan.steps.map((step) => {
    switch (step.kind) {
      case 'send':
        return `send ${step.label}`;
      case 'sleep':
        return `sleep ${step.ms}`;
      case 'dependency-fault':
        return `fault ${step.dependency} ${step.fault.kind} ${step.expect}`;
      case 'dependency-heal':
        return `heal ${step.dependency}`;
      default:
        return step.kind;
    }
  });

describe('dependency-fault plans', () => {
  it('hold the fault around the faulted attempts, heal, then retry the same key apart', () => {
    const input = scenario([
      {
        kind: 'dependency-fault',
        dependency: 'store',
        fault: { kind: 'down' },
        faulted: 2,
        retries: 2,
        retryAfterMs: 150,
      },
    ]);
    const [plan] = planScenario(input, PROFILES.default, { seed: 1, run: 'r' });
    expect(plan?.operations).toHaveLength(1);
    expect(shape(plan as PatternPlan)).toEqual([
      'fault store down fail-closed',
      'send original (store down)',
      'send retry during fault 1 (store down)',
      'heal store',
      'sleep 150',
      'send retry 1 (store healed)',
      'sleep 150',
      'send retry 2 (store healed)',
      'follow-up',
      'sleep 100',
      'probe-effects',
    ]);
  });

  it('expect fail-closed by default for down and timeout only; the spec overrides', () => {
    const expectOf = (
      fault: { kind: 'latency' | 'timeout' | 'cut' },
      expect?: 'any' | 'fail-closed',
    ) => {
      const input = scenario([
        { kind: 'dependency-fault', dependency: 'store', fault, ...(expect ? { expect } : {}) },
      ]);
      const step = planScenario(input, PROFILES.default, { seed: 1, run: 'r' })[0]?.steps[0];
      return step?.kind === 'dependency-fault' ? step.expect : undefined;
    };
    expect(expectOf({ kind: 'timeout' })).toBe('fail-closed');
    expect(expectOf({ kind: 'latency' })).toBe('any');
    expect(expectOf({ kind: 'cut' })).toBe('any');
    expect(expectOf({ kind: 'latency' }, 'fail-closed')).toBe('fail-closed');
    expect(expectOf({ kind: 'timeout' }, 'any')).toBe('any');
  });

  it('must name a declared dependency', () => {
    const input = scenario([
      { kind: 'dependency-fault', dependency: 'cache', fault: { kind: 'down' } },
    ]);
    const problem = crossFieldProblems(input).find((found) => found.path.includes('dependency'));
    expect(problem?.path).toEqual(['patterns', 0, 'dependency']);
    expect(problem?.message).toContain("unknown dependency 'cache'; dependencies has: store");
  });

  it('accept ${NAME} for listen and upstream, and refuse anything but host:port', () => {
    const parse = (listen: string) =>
      scenarioSchema.safeParse({
        name: 'x',
        target: { baseUrl: 'http://127.0.0.1:1', path: '/p' },
        payload: { template: {} },
        dependencies: { store: { listen, upstream: '127.0.0.1:5432' } },
        patterns: [{ kind: 'sequential-duplicates' }],
      }).success;
    expect(parse('${IDEMPROOF_DEMO_STORE_LISTEN}')).toBe(true);
    expect(parse('127.0.0.1:16379')).toBe(true);
    expect(parse('127.0.0.1')).toBe(false);
    expect(parse('x${A}')).toBe(false);
  });

  it('obey the blast-radius host rules: a dependency off loopback must be allowed', () => {
    const loaded = (upstream: string) => ({
      file: 'deps.yaml',
      scenario: scenarioSchema.parse({
        name: 'x',
        target: { baseUrl: 'http://127.0.0.1:1', path: '/p' },
        payload: { template: {} },
        dependencies: { store: { listen: '127.0.0.1:16379', upstream } },
        patterns: [{ kind: 'sequential-duplicates' }],
      }),
    });
    expect(() =>
      assertScenarioHosts(loaded('127.0.0.1:6379') as never, undefined, []),
    ).not.toThrow();
    expect(() => assertScenarioHosts(loaded('10.0.0.5:6379') as never, undefined, [])).toThrow(
      /10\.0\.0\.5/,
    );
    expect(() =>
      assertScenarioHosts(loaded('10.0.0.5:6379') as never, undefined, ['10.0.0.5']),
    ).not.toThrow();
  });

  it('accept `sink` as an upstream (idemproof plays the downstream), on loopback by construction', () => {
    const loaded = scenarioSchema.parse({
      name: 'x',
      target: { baseUrl: 'http://127.0.0.1:1', path: '/p' },
      payload: { template: {} },
      dependencies: { provider: { listen: '127.0.0.1:0', upstream: 'sink' } },
      patterns: [{ kind: 'sequential-duplicates' }],
    });
    expect(loaded.dependencies.provider?.upstream).toBe('sink');
    expect(() =>
      assertScenarioHosts({ file: 'x.yaml', scenario: loaded }, undefined, []),
    ).not.toThrow();
    const refused = scenarioSchema.safeParse({
      ...loaded,
      dependencies: { provider: { listen: '127.0.0.1:0', upstream: 'sinks' } },
    });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toContain('or sink');
  });

  it("name a dependency's listen address in templates as {{dependency.NAME}}, left for the run to fill", () => {
    const input = scenarioSchema.parse({
      name: 'x',
      target: {
        baseUrl: 'http://127.0.0.1:1',
        path: '/p',
        headers: { 'X-Via': '{{dependency.provider}}' },
      },
      payload: { template: { provider_url: 'http://{{ dependency.provider }}/{{key}}' } },
      dependencies: { provider: { listen: '127.0.0.1:0', upstream: 'sink' } },
      patterns: [{ kind: 'sequential-duplicates', count: 2 }],
    });
    expect(templateProblems(input)).toEqual([]);
    const [plan] = planScenario(input, PROFILES.default, { seed: 1, run: 'r' });
    expect(plan?.operations[0]?.payload).toEqual({
      provider_url: `http://{{dependency.provider}}/${plan?.operations[0]?.key}`,
    });
    const unknown = templateProblems({
      ...input,
      payload: { ...input.payload, template: { url: '{{dependency.cache}}' } },
    });
    expect(unknown.map((problem) => problem.message)).toEqual([
      expect.stringMatching(
        /^unknown template variable \{\{dependency\.cache\}\} \(declare it: dependencies: \{cache: /,
      ),
    ]);
  });
});
