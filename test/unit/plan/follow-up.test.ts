import { describe, expect, it } from 'vitest';
import { followUpStep } from '../../../src/plan/builder.js';
import { planScenario } from '../../../src/plan/plan.js';
import type { FollowUpStep, PatternPlan, SendStep } from '../../../src/plan/schedule.js';
import { overrideProfile, PROFILES } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';

function scenario(patterns: ScenarioInput['patterns']) {
  return scenarioSchema.parse({
    name: 'follow-up test',
    target: { baseUrl: 'http://127.0.0.1:1', path: '/things' },
    payload: { template: { amount: 1 } },
    effects: { http: { url: '/things?key={{key}}' } },
    patterns,
  });
}

const followUps = (plan: PatternPlan | undefined): FollowUpStep[] =>
  (plan?.steps ?? []).flatMap((step) => (step.kind === 'follow-up' ? [step] : []));

const send = { kind: 'send', op: 0, label: 'follow-up', lane: 'clean' } as unknown as SendStep;

describe('liveness follow-ups', () => {
  it('wait the in-progress timeout and a margin, a bounded number of times', () => {
    expect(followUpStep(PROFILES.default, send)).toMatchObject({
      waitMs: 6000,
      intervalMs: 1000,
      maxAttempts: 8,
      inFlightStatus: [409],
    });
    const long = followUpStep(
      overrideProfile(PROFILES.default, { inProgressTimeoutMs: 90_000 }),
      send,
    );
    expect(long).toMatchObject({ waitMs: 108_000, intervalMs: 18_000 });
    expect(long?.maxAttempts).toBeLessThanOrEqual(20);
    const none = overrideProfile(PROFILES.default, { inProgressTimeoutMs: null });
    expect(followUpStep(none, send)).toBeUndefined();
  });

  it('follow each sequential pattern on the clean lane with the same key, before its probe', () => {
    const plans = planScenario(
      scenario([
        { kind: 'sequential-duplicates', count: 3, lanes: ['lost-response'] },
        { kind: 'lost-response' },
        { kind: 'lost-request' },
        { kind: 'slow-timeout', clientTimeoutMs: 100, retryAtMs: [50] },
        { kind: 'delayed-retries', delaysMs: [10] },
        { kind: 'concurrent-burst', count: 2, rounds: 1 },
      ]),
      PROFILES.default,
      { seed: 3, run: 'r' },
    );
    for (const plan of plans.slice(0, 5)) {
      const [step] = followUps(plan);
      expect(step?.send, plan.id).toMatchObject({ lane: 'clean', variant: 'original', op: 0 });
      const kinds = plan.steps.map((item) => item.kind);
      expect(kinds.indexOf('follow-up')).toBeLessThan(kinds.lastIndexOf('probe-effects'));
    }
    // A burst's refusals are judged where they were sent: no follow-up.
    expect(followUps(plans[5])).toEqual([]);
  });
});
