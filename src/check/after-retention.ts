import { attemptsOf, type Attempt, type HistoryEvent, type ProbeEvent } from '../history/events.js';
import { countOf, type EffectCount } from './effect-count.js';
import { scopeId } from './scope.js';

/**
 * Retries sent on purpose after the declared retention (delayed-retries with
 * `afterRetention: execute-again`): by scope, the attempts past the retention, and the effect
 * count read just before the first of them, so the effects of the key's two lives can be told
 * apart (the final reading minus this one is what the late attempts did).
 *
 * Must not: judge anything (effectsPerKey does).
 */
export interface AfterRetention {
  readonly attempts: readonly Attempt[];
  /** The last effect reading of the scope before the first late attempt. */
  readonly before: EffectCount;
}

export function afterRetentionScopes(
  history: readonly HistoryEvent[],
): Map<string, AfterRetention> {
  const late = new Map<string, Attempt[]>();
  for (const attempt of attemptsOf(history)) {
    const { key, tenant, keySent, afterRetention } = attempt.invoke;
    if (key === null || !keySent || afterRetention !== true) continue;
    const id = scopeId(key, tenant);
    late.set(id, [...(late.get(id) ?? []), attempt]);
  }
  const scopes = new Map<string, AfterRetention>();
  for (const [id, attempts] of late) {
    const first = attempts[0]?.invoke.index ?? 0;
    let probe: ProbeEvent | undefined;
    for (const event of history) {
      if (event.index >= first) break;
      if (event.type === 'probe' && event.probe === 'effects' && event.key !== null)
        if (scopeId(event.key, event.tenant) === id) probe = event;
    }
    scopes.set(id, {
      attempts,
      before: countOf(probe, 'no effect reading was recorded before the retention ended'),
    });
  }
  return scopes;
}
