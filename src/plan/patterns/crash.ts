import type { PatternBuilder } from '../builder.js';
import { retryCount } from '../../scenario/schema-request.js';
import type { PatternSpec } from '../../scenario/schema.js';

type Spec<K extends PatternSpec['kind']> = Extract<PatternSpec, { kind: K }>;

/**
 * 13. The target crashes at a chosen point and is started again; the retries with the same
 * key then go to the new process. Exactly one effect per key is expected, and a key the crash
 * left in progress must be freed within the profile's in-progress timeout (the follow-up).
 * 14. Cold-start replay: a window of keys completed, a restart, then every key again.
 *
 * Must not: judge anything, run the commands (run/process-steps.ts does) or read the clock.
 */

/** The pause between the first request and its duplicate, so the first is in flight. */
export const DUPLICATE_DELAY_MS = 50;

export function crash(plan: PatternBuilder, spec: Spec<'crash'>): void {
  const op = plan.operation();
  const timeoutMs = spec.timeoutMs ?? plan.context.scenario.target.timeoutMs;
  switch (spec.at) {
    case 'after-effect':
      plan.send(op, {
        label: 'original (the target crashes once it has the effect)',
        background: true,
      });
      plan.crash(op, 'after-effect', 'crash after the effect, before the answer', timeoutMs);
      plan.join();
      break;
    case 'between-bursts': {
      const burst = (round: number): void => {
        plan.burst(
          Array.from({ length: spec.count }, (_, index) =>
            plan.sendStep(op, {
              label: `burst ${round}, request ${index + 1}/${spec.count}`,
              group: `burst-${round}`,
            }),
          ),
        );
      };
      burst(1);
      plan.crash(op, 'now', 'crash between the bursts', 0);
      burst(2);
      break;
    }
    case 'during-in-flight-duplicate':
      plan.send(op, { label: 'original (in flight when the target crashes)', background: true });
      plan.sleep(DUPLICATE_DELAY_MS);
      plan.send(op, { label: 'duplicate while the original runs', background: true });
      plan.crash(
        op,
        'in-flight',
        'crash while the original and its duplicate are in flight',
        timeoutMs,
      );
      plan.join();
      break;
  }
  // Between bursts, the second burst is the retries.
  const retries = spec.at === 'between-bursts' ? 0 : retryCount(spec.retries);
  for (let retry = 1; retry <= retries; retry += 1)
    plan.send(op, { label: `retry ${retry} after the restart` });
  plan.followUp(op);
  plan.probeEffects(op, 'after the crash and the retries');
}

export function coldStartReplay(plan: PatternBuilder, spec: Spec<'cold-start-replay'>): void {
  const ops = Array.from({ length: spec.count }, () => plan.operation());
  ops.forEach((op, index) => plan.send(op, { label: `key ${index + 1}/${spec.count}` }));
  const first = ops[0];
  if (first !== undefined) plan.crash(first, 'now', 'restart: cold start', 0);
  ops.forEach((op, index) =>
    plan.send(op, { label: `replay ${index + 1}/${spec.count} after the cold start` }),
  );
  ops.forEach((op, index) => plan.probeEffects(op, `key ${index + 1} after its replay`));
}
