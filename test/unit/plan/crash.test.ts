import { describe, expect, it } from 'vitest';
import { planScenario } from '../../../src/plan/plan.js';
import type { PatternPlan, Step } from '../../../src/plan/schedule.js';
import { crossFieldProblems } from '../../../src/scenario/cross-field.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';

const PROCESS = { kill: 'kill -9 $(cat api.pid)', start: 'node server.js & echo $! > api.pid' };

function scenario(patterns: ScenarioInput['patterns'], extra: Partial<ScenarioInput> = {}) {
  return scenarioSchema.parse({
    name: 'crash test',
    target: { baseUrl: 'http://127.0.0.1:1', path: '/payments', timeoutMs: 4000 },
    payload: { template: { amount: 1 } },
    effects: { http: { url: '/payments?key={{key}}' } },
    process: PROCESS,
    patterns,
    ...extra,
  });
}

const shape = (step: Step): string => {
  switch (step.kind) {
    case 'send':
      return `send ${step.label}${step.background ? ' (background)' : ''}`;
    case 'burst':
      return `burst ${step.sends.length}`;
    case 'sleep':
      return `sleep ${step.ms}`;
    case 'crash':
      return `crash ${step.when} wait ${step.waitMs}`;
    default:
      return step.kind;
  }
};

function planOf(patterns: ScenarioInput['patterns']): PatternPlan[] {
  return planScenario(scenario(patterns), PROFILES.default, { seed: 7, run: 'r' });
}

describe('crash plans', () => {
  it('after-effect: the original in flight, a crash at its effect, retries with the key, a follow-up', () => {
    const [plan] = planOf([{ kind: 'crash', at: 'after-effect', retries: 2 }]);
    expect(plan?.operations).toHaveLength(1);
    expect(plan?.steps.map(shape)).toEqual([
      'send original (the target crashes once it has the effect) (background)',
      'crash after-effect wait 4000',
      'join',
      'send retry 1 after the restart',
      'send retry 2 after the restart',
      'follow-up',
      'sleep 100',
      'probe-effects',
    ]);
  });

  it('between-bursts: two bursts of one key with a crash between them (the second burst retries)', () => {
    const [plan] = planOf([{ kind: 'crash', at: 'between-bursts', count: 3, retries: 2 }]);
    expect(plan?.steps.map(shape)).toEqual([
      'burst 3',
      'crash now wait 0',
      'burst 3',
      'follow-up',
      'sleep 100',
      'probe-effects',
    ]);
    const sends = plan?.steps.flatMap((step) => (step.kind === 'burst' ? step.sends : []));
    expect(new Set(sends?.map((send) => send.op))).toEqual(new Set([0]));
  });

  it('during-in-flight-duplicate: the duplicate goes out while the original runs, then the crash', () => {
    const [plan] = planOf([{ kind: 'crash', at: 'during-in-flight-duplicate', retries: 1 }]);
    expect(plan?.steps.map(shape)).toEqual([
      'send original (in flight when the target crashes) (background)',
      'sleep 50',
      'send duplicate while the original runs (background)',
      'crash in-flight wait 4000',
      'join',
      'send retry 1 after the restart',
      'follow-up',
      'sleep 100',
      'probe-effects',
    ]);
  });

  it('every crash plan gets a follow-up, so a key the crash left in progress is judged', () => {
    for (const at of ['after-effect', 'between-bursts', 'during-in-flight-duplicate'] as const) {
      const [plan] = planOf([{ kind: 'crash', at }]);
      expect(
        plan?.steps.some((step) => step.kind === 'follow-up'),
        at,
      ).toBe(true);
    }
  });

  it('cold-start-replay: every key sent, one restart, every key again with the same payload', () => {
    const [plan] = planOf([{ kind: 'cold-start-replay', count: 3 }]);
    expect(plan?.operations).toHaveLength(3);
    const steps = plan?.steps ?? [];
    const crashAt = steps.findIndex((step) => step.kind === 'crash');
    expect(steps.filter((step) => step.kind === 'crash')).toHaveLength(1);
    const before = steps.slice(0, crashAt).flatMap((step) => (step.kind === 'send' ? [step] : []));
    const after = steps.slice(crashAt).flatMap((step) => (step.kind === 'send' ? [step] : []));
    expect(before.map((send) => send.op)).toEqual([0, 1, 2]);
    expect(after.map((send) => send.op)).toEqual([0, 1, 2]);
    // Replays are retries of the key: same variant, no override.
    expect(after.every((send) => send.variant === 'original')).toBe(true);
    expect(steps.filter((step) => step.kind === 'probe-effects')).toHaveLength(3);
  });
});

describe('crash validation', () => {
  it('a crash or cold-start-replay pattern without process commands names the pattern', () => {
    const input = scenario([{ kind: 'crash' }, { kind: 'cold-start-replay' }]);
    const { process: _ignored, ...withoutProcess } = input;
    const problems = crossFieldProblems({ ...withoutProcess, process: undefined });
    expect(problems.map((problem) => problem.path.join('.'))).toEqual(
      expect.arrayContaining(['patterns.0.kind', 'patterns.1.kind']),
    );
    expect(problems.find((problem) => problem.path[1] === 0)?.message).toMatch(/^crash crashes/);
    expect(problems.find((problem) => problem.path[1] === 1)?.message).toMatch(
      /^cold-start-replay /,
    );
  });

  it('with process commands there is no such problem; patterns running at once are refused', () => {
    expect(crossFieldProblems(scenario([{ kind: 'crash' }]))).toEqual([]);
    const parallel = crossFieldProblems(scenario([{ kind: 'crash' }], { concurrency: 2 }));
    expect(parallel.map((problem) => problem.path.join('.'))).toEqual(['concurrency']);
  });
});
