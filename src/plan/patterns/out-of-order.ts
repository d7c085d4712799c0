import type { PatternBuilder } from '../builder.js';
import type { PatternSpec } from '../../scenario/schema.js';

/**
 * 8. Operations with different keys on one resource, in order; then a late duplicate of an
 * earlier one (whose first response may have been lost). The state after the late duplicate
 * must equal the state after the in-order operations.
 */
export function outOfOrder(
  plan: PatternBuilder,
  spec: Extract<PatternSpec, { kind: 'out-of-order' }>,
): void {
  const resource = plan.resource();
  const ops = spec.operations.map((template, sequence) =>
    plan.operation({ template, resource, sequence }),
  );
  ops.forEach((op, index) => {
    const lost = index === spec.lateDuplicateOf && spec.firstLane === 'lost-response';
    plan.send(op, {
      label: `operation ${index + 1}${lost ? ' (response lost)' : ''}`,
      lane: index === spec.lateDuplicateOf ? spec.firstLane : 'clean',
    });
  });
  const first = ops[0] ?? 0;
  plan.probeState(first, 'in-order state');
  const late = ops[spec.lateDuplicateOf] ?? first;
  plan.send(late, { label: `late duplicate of operation ${spec.lateDuplicateOf + 1}` });
  plan.probeState(first, 'final state');
  ops.forEach((op, index) => plan.probeEffects(op, `effects of operation ${index + 1}`));
}
