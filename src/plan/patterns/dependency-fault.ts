import type { PatternBuilder } from '../builder.js';
import { retryCount } from '../../scenario/schema-request.js';
import type { PatternSpec } from '../../scenario/schema.js';

/**
 * A fault in one of the target's dependencies (its database, cache, a downstream API): the
 * first `faulted` attempts of one key are sent while the fault is held, the fault is healed
 * once they complete, then `retries` retries with the same key follow `retryAfterMs` apart on
 * a healthy dependency, then the usual effect probe.
 *
 * Must not: do I/O (the executor puts the fault in place), or leave a fault step without its
 * heal step (the executor also heals in a finally).
 */

type Spec = Extract<PatternSpec, { kind: 'dependency-fault' }>;

/** The faults an API must fail closed on by default: it cannot know what happened. */
const FAIL_CLOSED_BY_DEFAULT = new Set(['down', 'timeout']);

export function dependencyFaultExpect(spec: Spec): 'fail-closed' | 'any' {
  return spec.expect ?? (FAIL_CLOSED_BY_DEFAULT.has(spec.fault.kind) ? 'fail-closed' : 'any');
}

export function dependencyFault(plan: PatternBuilder, spec: Spec): void {
  const op = plan.operation();
  const what = `${spec.dependency} ${spec.fault.kind}`;
  plan.step({
    kind: 'dependency-fault',
    dependency: spec.dependency,
    fault: spec.fault,
    expect: dependencyFaultExpect(spec),
  });
  for (let attempt = 1; attempt <= spec.faulted; attempt += 1)
    plan.send(op, {
      label: attempt === 1 ? `original (${what})` : `retry during fault ${attempt - 1} (${what})`,
    });
  plan.step({ kind: 'dependency-heal', dependency: spec.dependency });
  for (let retry = 1; retry <= retryCount(spec.retries); retry += 1) {
    plan.sleep(spec.retryAfterMs);
    plan.send(op, { label: `retry ${retry} (${spec.dependency} healed)` });
  }
  plan.followUp(op);
  plan.probeEffects(op, 'after the fault and the retries');
}
