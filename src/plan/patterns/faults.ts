import type { PatternBuilder } from '../builder.js';
import { retryCount } from '../../scenario/schema-request.js';
import type { PatternSpec } from '../../scenario/schema.js';

type Spec<K extends PatternSpec['kind']> = Extract<PatternSpec, { kind: K }>;

/** A blackholed response never comes: the attempt gives up after this long. */
const BLACKHOLE_TIMEOUT_MS = 1000;

/** 4. The request is processed but its response is lost; retries with the same key follow. */
export function lostResponse(plan: PatternBuilder, spec: Spec<'lost-response'>): void {
  const op = plan.operation();
  plan.send(op, {
    label: 'original (response lost)',
    lane: spec.lane,
    ...(spec.lane === 'blackhole'
      ? {
          timeoutMs: Math.min(
            BLACKHOLE_TIMEOUT_MS,
            spec.timeoutMs ?? plan.context.scenario.target.timeoutMs,
          ),
        }
      : {}),
  });
  for (let retry = 1; retry <= retryCount(spec.retries); retry += 1)
    plan.send(op, { label: `retry ${retry}` });
  plan.followUp(op);
  plan.probeEffects(op, 'after retries');
}

/** 5. The request never reaches the target; the retry is the first delivery. */
export function lostRequest(plan: PatternBuilder, spec: Spec<'lost-request'>): void {
  const op = plan.operation();
  plan.send(op, { label: 'original (request lost)', lane: 'lost-request' });
  plan.probeEffects(op, 'after the lost request');
  for (let retry = 1; retry <= retryCount(spec.retries); retry += 1)
    plan.send(op, { label: `retry ${retry}` });
  plan.followUp(op);
  plan.probeEffects(op, 'after retries');
}

/**
 * 6. The original outlives the client's timeout (through a slow lane, or a slow target), and
 * retries start while it may still be in flight.
 */
export function slowTimeout(plan: PatternBuilder, spec: Spec<'slow-timeout'>): void {
  const op = plan.operation();
  plan.send(op, {
    label: `original (gives up after ${spec.clientTimeoutMs} ms)`,
    lane: spec.lane,
    timeoutMs: spec.clientTimeoutMs,
    background: true,
  });
  let elapsed = 0;
  [...spec.retryAtMs]
    .sort((a, b) => a - b)
    .forEach((at, index) => {
      plan.sleep(at - elapsed);
      elapsed = at;
      plan.send(op, { label: `retry ${index + 1} at +${at} ms`, background: true });
    });
  plan.join();
  plan.followUp(op);
  // The probe waits the pattern's settleMs (1500 ms by default here), so a delayed original lands.
  plan.probeEffects(op, 'after the original and its retries');
}

/**
 * 7. Retries after pauses, to cross in-progress and retention windows. A retry later than the
 * retention the profile declares is not a duplicate any more: it is left out (and noted), or
 * with `afterRetention: execute-again` sent on purpose, expecting the key to execute again;
 * the effects are then read once before the retention ends, so each side is judged on its own.
 */
export function delayedRetries(plan: PatternBuilder, spec: Spec<'delayed-retries'>): void {
  const op = plan.operation();
  const retention = plan.context.profile.retentionMs;
  plan.send(op, { label: 'original' });
  let elapsed = 0;
  let expired = false;
  spec.delaysMs.forEach((delay, index) => {
    const past = retention !== null && elapsed + delay >= retention;
    if (past && spec.afterRetention === 'skip') {
      plan.note(
        `retry ${index + 1} after ${delay} ms left out: it would come after the declared retention of ${retention} ms`,
      );
      return;
    }
    if (past && !expired) {
      expired = true;
      plan.probeEffects(op, 'before the retention ends');
    }
    elapsed += delay;
    plan.sleep(delay);
    plan.send(op, {
      label: `retry ${index + 1} after ${delay} ms${past ? `, past the retention of ${retention} ms` : ''}`,
      ...(past ? { afterRetention: true } : {}),
    });
  });
  // Past the retention the key lives again: its answers are judged apart, not followed up.
  if (!expired) plan.followUp(op);
  plan.probeEffects(op, 'after delayed retries');
}
