import type { Attempt } from '../history/events.js';

/**
 * A scope is one logical operation as the API should see it: the attempts that sent the same
 * Idempotency-Key for the same tenant. Attempts without a key, or that did not send it, belong
 * to no scope.
 */
export interface Scope {
  readonly key: string;
  /** The tenant as the attempts recorded it (null: the default tenant). */
  readonly tenant: string | null;
  /** In invoke order. */
  readonly attempts: readonly Attempt[];
}

/** A string that identifies a scope: (tenant ?? '', key). */
export function scopeId(key: string, tenant: string | null): string {
  return JSON.stringify([tenant ?? '', key]);
}

/**
 * Groups attempts that sent a key into scopes, in the order each scope first appears. Steps of
 * a scripted pattern belong to no scope: they state their own expectations (expiry, other
 * methods, odd keys on purpose), which the stepExpectations checker judges.
 * Must not: merge tenants (the null tenant and '' are the same default tenant, nothing more).
 */
export function byScope(attempts: readonly Attempt[]): Scope[] {
  const scopes = new Map<string, { key: string; tenant: string | null; attempts: Attempt[] }>();
  for (const attempt of attempts) {
    const { key, tenant, keySent, patternKind } = attempt.invoke;
    // A retry sent past the declared retention is a new execution, not part of the scope
    // (effectsPerKey counts it apart: see after-retention.ts).
    if (key === null || !keySent || patternKind === 'steps' || attempt.invoke.afterRetention)
      continue;
    const id = scopeId(key, tenant);
    const scope = scopes.get(id);
    if (scope === undefined) scopes.set(id, { key, tenant, attempts: [attempt] });
    else scope.attempts.push(attempt);
  }
  return [...scopes.values()];
}
