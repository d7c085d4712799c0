import { describe, expect, it } from 'vitest';
import { distinctKeysDistinctEffects } from '../../../src/check/distinct-keys.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { onlyAnomaly } from './expect-anomaly.js';
import { HistoryBuilder, payment } from './history-builder.js';

const context = { profile: PROFILES.default };
const samePayload = { amount: 1000, currency: 'EUR', customer: 'cus_1' };
const key = (n: number) =>
  ({
    key: `k-${n}`,
    label: `key ${n}/3`,
    patternKind: 'distinct-keys',
    payload: samePayload,
  }) as const;

describe('distinctKeysDistinctEffects', () => {
  it('holds when each new key with the same payload makes its own effect', () => {
    const h = new HistoryBuilder();
    for (const n of [1, 2, 3]) h.send(key(n), { status: 201, body: payment(`pay_${n}`) });
    for (const n of [1, 2, 3]) h.effects(1, { key: `k-${n}` });
    const result = distinctKeysDistinctEffects(h.history(), context);
    expect(result).toMatchObject({ valid: true, checked: 3, notes: ['3 keys made 3 effects.'] });
  });

  it('reports a new key refused with 409: deduplication by payload', () => {
    const h = new HistoryBuilder();
    h.send(key(1), { status: 201, body: payment('pay_1') });
    h.send(key(2), { status: 409, body: { title: 'duplicate payment' } });
    h.effects(1, { key: 'k-1' });
    h.effects(0, { key: 'k-2' });
    const result = distinctKeysDistinctEffects(h.history(), context);
    expect(result.anomalies.map((a) => a.kind)).toEqual(['distinct-key-refused']);
    expect(result.anomalies[0]?.message).toContain(
      'the API deduplicates by payload instead of by key',
    );
    expect(result.notes).toEqual(['2 keys made 1 effect.']);
  });

  it('reports a new key that got a 2xx but made no effect, or two', () => {
    const h = new HistoryBuilder();
    h.send(key(1), { status: 201, body: payment('pay_1') });
    h.send(key(2), { status: 201, body: payment('pay_1') });
    h.send(key(3), { status: 201, body: payment('pay_3') });
    h.effects(1, { key: 'k-1' });
    h.effects(0, { key: 'k-2' });
    h.effects(2, { key: 'k-3' });
    const anomalies = distinctKeysDistinctEffects(h.history(), context).anomalies;
    expect(anomalies.map((a) => [a.kind, a.key])).toEqual([
      ['distinct-key-wrong-effects', 'k-2'],
      ['distinct-key-wrong-effects', 'k-3'],
    ]);
    expect(anomalies[0]?.message).toContain("replayed someone else's result");
  });

  it('reports a server error for a new key, and does not judge a 429', () => {
    const h = new HistoryBuilder();
    h.send(key(1), { status: 503, body: {} });
    h.send(key(2), { status: 429, body: {} });
    h.effects(0, { key: 'k-1' });
    h.effects(0, { key: 'k-2' });
    const anomaly = onlyAnomaly(
      distinctKeysDistinctEffects(h.history(), context),
      'distinct-key-refused',
    );
    expect(anomaly.message).toContain(
      'got 503: a server error, where a new operation was expected',
    );
  });

  it('is unknown without effect readings', () => {
    const h = new HistoryBuilder();
    h.send(key(1), { status: 201, body: payment('pay_1') });
    const result = distinctKeysDistinctEffects(h.history(), context);
    expect(result.valid).toBe('unknown');
    expect(result.notes).toContain('1 key made 0 effects (1 key without an effect reading).');
  });

  it('is not applicable without a distinct-keys pattern', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    expect(distinctKeysDistinctEffects(h.history(), context)).toMatchObject({
      valid: true,
      checked: 0,
    });
  });
});
