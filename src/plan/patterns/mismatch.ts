import type { PatternBuilder } from '../builder.js';
import type { PatternSpec } from '../../scenario/schema.js';

/**
 * 3. Same key, different payload: sequentially, then concurrently with the original; the
 * original request must still get the original result afterwards.
 */
export function payloadMismatch(
  plan: PatternBuilder,
  spec: Extract<PatternSpec, { kind: 'payload-mismatch' }>,
): void {
  const op = plan.operation();
  plan.send(op, { label: 'original' });
  plan.send(op, { label: 'different payload', variant: 'different' });
  plan.send(op, { label: 'original again' });
  if (spec.concurrent > 0) {
    const group = 'mismatch-burst';
    plan.burst([
      ...Array.from({ length: spec.concurrent }, (_, index) =>
        plan.sendStep(op, {
          label: `different payload, concurrent ${index + 1}`,
          variant: 'different',
          group,
        }),
      ),
      plan.sendStep(op, { label: 'original, concurrent with the different ones', group }),
    ]);
    plan.send(op, { label: 'original after the concurrent mismatches' });
  }
  plan.probeEffects(op, 'after mismatches');
}
