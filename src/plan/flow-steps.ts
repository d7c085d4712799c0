import { capturedNames } from '../scenario/schema-flow.js';
import { dependencyVariables } from '../scenario/templates.js';
import type { Scenario } from '../scenario/schema.js';
import type { PatternPlan, SendStep, Step } from './schedule.js';

/**
 * Adds the scenario's flow to a pattern's plan, whatever pattern built it: the reset hooks
 * first, then before each operation's first attempt its per-key setup hooks and (with a delta
 * effect probe) the baseline reading of the counter, and the per-key teardown hooks last.
 * Pure, like the rest of the planner.
 *
 * Must not: reorder or drop the pattern's own steps.
 */
export function withFlowSteps(plan: PatternPlan, scenario: Scenario): PatternPlan {
  const { reset, perKey } = scenario.hooks;
  const delta = scenario.effects !== undefined && 'delta' in scenario.effects;
  if (!delta && reset.length === 0 && perKey.setup.length === 0 && perKey.teardown.length === 0)
    return plan;
  const steps: Step[] = [];
  if (reset.length > 0) steps.push({ kind: 'hook', phase: 'reset', op: null, tenant: null });
  const started = new Map<number, string | null>();
  for (const step of plan.steps) {
    for (const send of sendsOf(step)) {
      if (started.has(send.op)) continue;
      started.set(send.op, send.tenant);
      if (perKey.setup.length > 0)
        steps.push({ kind: 'hook', phase: 'key-setup', op: send.op, tenant: send.tenant });
      if (delta) {
        steps.push({
          kind: 'probe-baseline',
          op: send.op,
          tenant: send.tenant,
          label: 'before the first attempt',
        });
      }
    }
    steps.push(step);
  }
  if (perKey.teardown.length > 0) {
    for (const [op, tenant] of started)
      steps.push({ kind: 'hook', phase: 'key-teardown', op, tenant });
  }
  if (delta) assertSeparateCounts(plan.id, steps);
  return { ...plan, steps };
}

/**
 * {{name}} → "{{name}}" for every value a hook captures and every dependency address: they are
 * known only once the plan runs, so the planner leaves them in place.
 */
export function capturePlaceholders(scenario: Scenario): Record<string, string> {
  const { setup, perKey } = scenario.hooks;
  return Object.fromEntries(
    [...dependencyVariables(scenario), ...capturedNames(setup), ...capturedNames(perKey.setup)].map(
      (name) => [name, `{{${name}}}`],
    ),
  );
}

function sendsOf(step: Step): readonly SendStep[] {
  if (step.kind === 'send') return [step];
  if (step.kind === 'burst') return step.sends;
  return [];
}

/**
 * A delta probe reads one counter for every key: between an operation's baseline and its last
 * effect reading, no other operation may send, or its effects would be counted too.
 */
function assertSeparateCounts(pattern: string, steps: readonly Step[]): void {
  steps.forEach((step, start) => {
    if (step.kind !== 'probe-baseline') return;
    const end = steps.findLastIndex(
      (later) => later.kind === 'probe-effects' && later.op === step.op,
    );
    const other = steps
      .slice(start + 1, Math.max(start + 1, end))
      .flatMap(sendsOf)
      .find((send) => send.op !== step.op);
    if (other !== undefined) {
      throw new Error(
        `${pattern}: a delta effect probe counts one counter for all keys, but this pattern sends '${other.label}' for another key before the effects of the first are counted; use a per-key effect probe (http, sql or sink) for this pattern`,
      );
    }
  });
}
