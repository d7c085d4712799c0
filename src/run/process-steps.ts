import { IdemproofError } from '../errors.js';
import type { CrashStep, PatternPlan } from '../plan/schedule.js';
import { operationOf, tenantHeaders, varsFor, type ScenarioRuntime } from './execute.js';

/**
 * Carries out a plan's crash step: waits for its moment (an effect read while the attempt is
 * in flight, a duplicate refused while the first runs, or at once), then kills the target,
 * starts it again and waits until it is ready, through the scenario's process control. The
 * moment is polled every POLL_MS, never longer than the step's `waitMs`.
 *
 * Must not: send attempts (the plan's own steps do), record effect readings (the polls only
 * decide when to kill), or leave the target down when the kill succeeded and the start works.
 */

const POLL_MS = 5;

export async function runCrashStep(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  step: CrashStep,
  pending: readonly Promise<void>[],
): Promise<void> {
  const control = runtime.process;
  if (control === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${plan.id}: this pattern crashes the target, but the scenario has no process commands (process: {kill, start})`,
    );
  }
  const moment = await momentOf(runtime, plan, step, pending);
  await control.kill(plan.id, `${step.label}: ${moment}`);
  await control.start(plan.id);
}

/** Waits for the crash's moment and says what it was. */
async function momentOf(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  step: CrashStep,
  pending: readonly Promise<void>[],
): Promise<string> {
  if (step.when === 'now') return 'at once';
  const settled = pending.map((attempt) => {
    const state = { done: false };
    const done = (): void => {
      state.done = true;
    };
    attempt.then(done, done);
    return state;
  });
  const countEffects = effectCounter(runtime, plan, step);
  const started = runtime.recorder.now();
  const maxPolls = Math.ceil(step.waitMs / POLL_MS) + 1;
  for (let poll = 0; poll < maxPolls; poll += 1) {
    if (runtime.gate.stopped !== undefined) return 'the run was stopping';
    const answered = settled.filter((state) => state.done).length;
    if (settled.length > 0 && answered === settled.length)
      return 'every attempt in flight had answered before an effect was read';
    if (step.when === 'in-flight' && settled.length >= 2 && answered >= settled.length - 1)
      return 'the duplicate had answered while the first was still in flight';
    if (countEffects !== undefined && (await countEffects()) >= 1)
      return 'the effect was read while the attempt was still in flight';
    if (runtime.recorder.now() - started >= step.waitMs) break;
    await runtime.gate.sleep(POLL_MS);
  }
  return `after waiting ${step.waitMs} ms for the moment`;
}

/** Reads the operation's effects (after its delta baseline); a failed read counts 0. */
function effectCounter(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  step: CrashStep,
): (() => Promise<number>) | undefined {
  const counter = runtime.effects;
  if (counter === undefined) return undefined;
  const operation = operationOf(plan, step.op);
  const vars = varsFor(runtime, operation, step.tenant);
  const headers = tenantHeaders(runtime, step.tenant, vars);
  const before = counter.delta ? (runtime.flow?.baseline(operation) ?? 0) : 0;
  return async () => {
    try {
      return (await counter.count(vars, headers)) - before;
    } catch {
      return 0;
    }
  };
}
