import type { PatternBuilder } from '../builder.js';
import type { PatternSpec } from '../../scenario/schema.js';

type Spec<K extends PatternSpec['kind']> = Extract<PatternSpec, { kind: K }>;

/** 9. Requests without the key: refused with the profile's status (or processed, if it says so). */
export function missingKey(plan: PatternBuilder, spec: Spec<'missing-key'>): void {
  const op = plan.operation();
  for (let index = 1; index <= spec.count; index += 1)
    plan.send(op, { label: `without key ${index}`, keySent: false });
  plan.probeKeyless(op, 'after requests without a key');
}

/**
 * 10. One key, one payload, two tenants: each gets its own effect and never the other's
 * response. A second key for the first tenant is the control that tells whether response
 * bodies identify an operation at all.
 */
export function crossTenant(plan: PatternBuilder, spec: Spec<'cross-tenant'>): void {
  const tenants = spec.tenants ?? Object.keys(plan.context.scenario.target.tenants).slice(0, 2);
  const first = tenants[0] ?? null;
  const op = plan.operation();
  for (const tenant of tenants) plan.send(op, { label: `as ${tenant}`, tenant });
  for (const tenant of tenants) plan.send(op, { label: `as ${tenant}, again`, tenant });
  // Same payload, another key: if the bodies of the two keys are identical, bodies echo only
  // the payload and cannot show a cross-tenant leak (the checker then says unknown).
  const control = plan.operation({ payload: plan.payloadOf(op) });
  plan.send(control, { label: `control: another key as ${first ?? 'default'}`, tenant: first });
  for (const tenant of tenants) plan.probeEffects(op, `effects of ${tenant}`, tenant);
  plan.probeEffects(control, 'effects of the control key', first);
}
