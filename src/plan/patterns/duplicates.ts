import type { PatternBuilder } from '../builder.js';
import type { PatternSpec } from '../../scenario/schema.js';

type Spec<K extends PatternSpec['kind']> = Extract<PatternSpec, { kind: K }>;

/** 1. The same request N times, one after another; retries go through lanes drawn from the seed. */
export function sequentialDuplicates(
  plan: PatternBuilder,
  spec: Spec<'sequential-duplicates'>,
): void {
  const op = plan.operation();
  plan.send(op, { label: 'original' });
  for (let retry = 1; retry < spec.count; retry += 1) {
    const lane = plan.context.random.pick(spec.lanes);
    plan.send(op, { label: `retry ${retry}`, lane });
  }
  plan.followUp(op);
  plan.probeEffects(op, 'after duplicates');
}

/**
 * 2. N identical requests released together, in several rounds with fresh keys; by default
 * with last-byte synchronisation, so they reach the target within microseconds.
 */
export function concurrentBurst(plan: PatternBuilder, spec: Spec<'concurrent-burst'>): void {
  for (let round = 1; round <= spec.rounds; round += 1) {
    const op = plan.operation();
    const group = `burst-${round}`;
    plan.burst(
      Array.from({ length: spec.count }, (_, index) =>
        plan.sendStep(op, { label: `burst ${round}, request ${index + 1}/${spec.count}`, group }),
      ),
      spec.release,
      spec.releasePauseMs,
    );
    plan.probeEffects(op, `after burst ${round}`);
  }
}

/** 11. N different keys with the same payload make N effects (no deduplication by payload). */
export function distinctKeys(plan: PatternBuilder, spec: Spec<'distinct-keys'>): void {
  const first = plan.operation();
  const ops = [first];
  for (let index = 1; index < spec.count; index += 1)
    ops.push(plan.operation({ payload: plan.payloadOf(first) }));
  ops.forEach((op, index) => plan.send(op, { label: `key ${index + 1}/${spec.count}` }));
  ops.forEach((op, index) => plan.probeEffects(op, `key ${index + 1}`));
}
