import fc from 'fast-check';
import type { HistoryEvent } from '../../../src/history/events.js';
import { PROFILES, type Profile } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment, type ResponseSpec } from './history-builder.js';

/**
 * Arbitrary histories of well-behaved APIs: every key's attempts get identical replays (201
 * with the key's own body and Location, the profile's replay header after the first response),
 * unknown outcomes in between, concurrent bursts, several tenants, and effect counts that match
 * (1 for a key that succeeded; 0 or 1 when no outcome is known). Tweaks break one property.
 */
type Outcome = 'ok' | 'lost' | 'timeout' | 'not delivered';

/** A refusal as the profile's refusal rules want it: problem details, the texts it declares. */
function refusal(
  profile: Profile,
  status: number,
  title: string,
  texts: readonly string[] = [],
): ResponseSpec {
  const body = { type: 'about:blank', title, status, detail: texts.join(' ') };
  return profile.refusals.problemJson
    ? { status, body, headers: [['content-type', 'application/problem+json']] }
    : { status, body };
}

export interface KeyPlan {
  readonly key: string;
  readonly tenant: string | null;
  readonly kind: 'sequential-duplicates' | 'lost-response' | 'concurrent-burst' | 'distinct-keys';
  readonly outcomes: readonly Outcome[];
  /** When no attempt succeeded but one was lost: did the lost one run? */
  readonly lostRan: boolean;
}

export interface GoodHistory {
  readonly profile: Profile;
  readonly keys: readonly KeyPlan[];
  /** Interleaving: which key's next attempt (or burst) comes next. */
  readonly order: readonly number[];
  /** Well-handled extras: a refused mismatch, requests without a key, an out-of-order resource. */
  readonly mismatch: boolean;
  readonly keyless: number;
  readonly state: boolean;
}

export interface Tweaks {
  /** Effect counts to report instead of the right ones, by key index. */
  readonly effects?: ReadonlyMap<number, number>;
  /** Change one character of the n-th response (in completion order, n ≥ 1) of a key. */
  readonly mutate?: { readonly key: number; readonly response: number; readonly at: number };
}

const outcome = fc.constantFrom<Outcome>('ok', 'ok', 'lost', 'timeout', 'not delivered');
const keyPlan = ([key, tenant]: readonly [string, string | null]) =>
  fc
    .record({
      key: fc.constant(key),
      tenant: fc.constant(tenant),
      kind: fc.constantFrom(
        'sequential-duplicates',
        'lost-response',
        'concurrent-burst',
        'distinct-keys',
      ),
      outcomes: fc.array(outcome, { minLength: 1, maxLength: 4 }),
      lostRan: fc.boolean(),
    })
    .map((plan): KeyPlan => (plan.kind === 'distinct-keys' ? { ...plan, outcomes: ['ok'] } : plan));

/** Distinct (key, tenant) pairs: the same key may be used by two tenants. */
const scopes = fc.uniqueArray(
  fc.tuple(fc.constantFrom('k-1', 'k-2', 'k-3', 'k-4'), fc.constantFrom(null, 'alice', 'bob')),
  { minLength: 1, maxLength: 5, selector: ([key, tenant]) => `${tenant ?? ''}/${key}` },
);

export const goodHistory: fc.Arbitrary<GoodHistory> = fc.record({
  profile: fc.constantFrom<Profile>(PROFILES.default, PROFILES.ietf, PROFILES.stripe),
  keys: scopes.chain((pairs) => fc.tuple(...pairs.map(keyPlan))),
  order: fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
  mismatch: fc.boolean(),
  keyless: fc.integer({ min: 0, max: 2 }),
  state: fc.boolean(),
});

export function rightEffects(plan: KeyPlan): number {
  if (plan.outcomes.includes('ok')) return 1;
  return plan.outcomes.some((o) => o === 'lost' || o === 'timeout') && plan.lostRan ? 1 : 0;
}

export function buildHistory(good: GoodHistory, tweaks: Tweaks = {}): HistoryEvent[] {
  const h = new HistoryBuilder();
  const replay = good.profile.replayHeader;
  const answered = new Map<number, number>();
  const respond = (
    index: number,
    plan: KeyPlan,
    invoke: ReturnType<HistoryBuilder['invoke']>,
    wasStored: boolean,
  ) => {
    const count = answered.get(index) ?? 0;
    answered.set(index, count + 1);
    const id = `pay_${plan.key}_${plan.tenant ?? 'default'}`;
    let body = JSON.stringify(payment(id, { marker: `m-${plan.key}` }));
    if (tweaks.mutate?.key === index && tweaks.mutate.response === count) {
      const at = tweaks.mutate.at % body.length;
      body = `${body.slice(0, at)}${body[at] === 'x' ? 'y' : 'x'}${body.slice(at + 1)}`;
    }
    const headers: [string, string][] = [['location', `/payments/${id}`]];
    if (replay !== null && wasStored) headers.push([replay.name, replay.value]);
    h.ok(invoke, { status: 201, body, headers });
  };
  const next = good.keys.map(() => 0);
  const stored = good.keys.map(() => false);
  const pending = () =>
    good.keys.flatMap((plan, index) => ((next[index] ?? 0) < plan.outcomes.length ? [index] : []));
  for (let step = 0; pending().length > 0; step += 1) {
    const open = pending();
    const index = open[(good.order[step % good.order.length] ?? 0) % open.length] ?? 0;
    const plan = good.keys[index] as KeyPlan;
    const burst = plan.kind === 'concurrent-burst';
    const outcomes = burst
      ? plan.outcomes
      : plan.outcomes.slice(next[index], (next[index] ?? 0) + 1);
    next[index] = burst ? plan.outcomes.length : (next[index] ?? 0) + 1;
    const spec = {
      key: plan.key,
      tenant: plan.tenant,
      patternKind: plan.kind,
      marker: `m-${plan.key}`,
      group: burst ? `burst-${plan.key}` : null,
    };
    const invokes = outcomes.map((o, n) => ({
      o,
      invoke: h.invoke({ ...spec, label: `${burst ? 'burst request' : 'attempt'} ${n + 1}` }),
      wasStored: stored[index] ?? false,
    }));
    for (const { o, invoke, wasStored } of invokes) {
      if (o === 'ok') {
        respond(index, plan, invoke, wasStored);
        stored[index] = true;
      } else if (o === 'lost') h.info(invoke);
      else if (o === 'timeout')
        h.info(invoke, 'TIMEOUT', 'The operation was aborted due to timeout');
      else h.fail(invoke);
    }
  }
  const used = good.keys.findIndex((plan) => plan.outcomes.includes('ok'));
  const plan = good.keys[used];
  if (good.mismatch && plan !== undefined) {
    const spec = {
      key: plan.key,
      tenant: plan.tenant,
      patternKind: 'payload-mismatch',
      marker: `m-${plan.key}`,
    } as const;
    h.send(
      { ...spec, variant: 'different', label: 'different payload' },
      refusal(
        good.profile,
        good.profile.mismatchStatus[0] ?? 409,
        'Idempotency-Key reused with a different payload',
        good.profile.refusals.mismatchBody,
      ),
    );
    respond(used, plan, h.invoke({ ...spec, label: 'original again' }), true);
  }
  const missing = good.profile.missingKey;
  for (let n = 1; n <= good.keyless; n += 1) {
    const spec = {
      key: 'k-nokey',
      keySent: false,
      marker: 'm-nokey',
      patternKind: 'missing-key',
      label: `without key ${n}`,
    } as const;
    if (missing.expect === 'refused')
      h.send(spec, refusal(good.profile, missing.status[0] ?? 400, 'Idempotency-Key required'));
    else h.send(spec, { status: 201, body: payment(`pay_nokey_${n}`) });
  }
  if (good.keyless > 0)
    h.effects(missing.expect === 'refused' ? 0 : good.keyless, { key: null, marker: 'm-nokey' });
  if (good.state) {
    h.state('order-1', 'in-order state', { id: 'order-1', status: 'shipped', lines: [1, 2] });
    h.state('order-1', 'final state', { lines: [1, 2], status: 'shipped', id: 'order-1' });
  }
  good.keys.forEach((plan, index) =>
    h.effects(tweaks.effects?.get(index) ?? rightEffects(plan), {
      key: plan.key,
      tenant: plan.tenant,
    }),
  );
  return h.events;
}
