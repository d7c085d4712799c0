import { describe, expect, it } from 'vitest';
import { effectsPerKey } from '../../../src/check/effects-per-key.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

const context = { profile: PROFILES.default };

describe('effectsPerKey', () => {
  it('holds when a key that succeeded after a lost response has one effect', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.lost({ label: 'retry 1' });
    h.send({ label: 'retry 2' }, { status: 201, body: payment('pay_1') });
    h.effects(1);
    const result = effectsPerKey(h.history(), context);
    expect(result).toMatchObject({
      checker: 'effectsPerKey',
      valid: true,
      checked: 1,
      anomalies: [],
    });
  });

  it('reports a duplicate effect with the attempts in the message, like the example', () => {
    const h = new HistoryBuilder();
    const first = h.send(
      { key: 'k-123', tenant: 'alice', label: 'original' },
      { status: 201, body: payment('pay_1') },
    );
    h.lost({ key: 'k-123', tenant: 'alice', label: 'retry 1' });
    h.send(
      { key: 'k-123', tenant: 'alice', label: 'retry 2' },
      { status: 201, body: payment('pay_2') },
    );
    const probe = h.effects(2, { key: 'k-123', tenant: 'alice' });
    const result = effectsPerKey(h.history(), context);
    expect(result.valid).toBe(false);
    expect(result.anomalies).toHaveLength(1);
    const anomaly = onlyAnomaly(result, 'duplicate-effect');
    expect(anomaly).toMatchObject({
      kind: 'duplicate-effect',
      key: 'k-123',
      tenant: 'alice',
      expected: 'exactly 1 effect',
    });
    expect(anomaly.message).toBe(
      "Key 'k-123' (tenant alice) has 2 effects after 3 attempts (201, lost response, 201): a retry ran the operation again. Expected exactly one effect for a key that succeeded.",
    );
    expect(anomaly.actual).toContain('retry 1 → lost response (lane lost-response)');
    expect(anomaly.events).toEqual([first.index, 1, 2, 3, 4, 5, probe.index]);
    expect(anomaly.curl).toContain("-H 'idempotency-key: k-123'");
  });

  it('reports a missing effect when the API answered success but nothing happened', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    h.effects(0);
    const anomaly = onlyAnomaly(effectsPerKey(h.history(), context), 'missing-effect');
    expect(anomaly.message).toMatch(
      /^Key 'k-1' has no effect after 1 attempt \(201\): the API answered success/,
    );
  });

  it('allows one effect but not two when every outcome is unknown or a 5xx', () => {
    const once = new HistoryBuilder();
    once.lost();
    once.timedOut();
    once.effects(1);
    expect(effectsPerKey(once.history(), context).valid).toBe(true);

    const twice = new HistoryBuilder();
    twice.lost();
    twice.send({}, { status: 503, body: { error: 'unavailable' } });
    twice.effects(2);
    const anomaly = onlyAnomaly(effectsPerKey(twice.history(), context), 'duplicate-effect');
    expect(anomaly.expected).toBe('at most 1 effect');
    expect(anomaly.message).toContain('(lost response, 503)');
  });

  it('reports an effect when every attempt was refused or not delivered', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 400, body: { title: 'Invalid payment' } });
    h.notDelivered();
    h.effects(1);
    const anomaly = onlyAnomaly(effectsPerKey(h.history(), context), 'effect-without-success');
    expect(anomaly).toMatchObject({ kind: 'effect-without-success', expected: 'no effect' });
    expect(anomaly.message).toContain('(400, not delivered)');
  });

  it('is unknown, with a note, when the effect probe failed or never read the key', () => {
    const h = new HistoryBuilder();
    h.send({ key: 'k-1' }, { status: 201, body: payment('pay_1') });
    h.send({ key: 'k-2' }, { status: 201, body: payment('pay_2') });
    h.effects({ error: 'connection refused' }, { key: 'k-1' });
    const result = effectsPerKey(h.history(), context);
    expect(result.valid).toBe('unknown');
    expect(result.notes).toEqual([
      "Key 'k-1': the number of effects is unknown because the effect probe failed: connection refused.",
      "Key 'k-2': the number of effects is unknown because no effect reading was recorded.",
    ]);
  });

  it('uses the last effect reading of a key', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    h.effects(1);
    h.send({}, { status: 201, body: payment('pay_2') });
    h.effects(2);
    expect(effectsPerKey(h.history(), context).anomalies[0]?.kind).toBe('duplicate-effect');
  });

  it('counts tenants separately and leaves requests without a key to missingKeyRefused', () => {
    const h = new HistoryBuilder();
    h.send({ tenant: 'alice' }, { status: 201, body: payment('pay_1') });
    h.send({ tenant: 'bob' }, { status: 201, body: payment('pay_2') });
    h.send({ keySent: false, patternKind: 'missing-key' }, { status: 400, body: {} });
    h.effects(1, { tenant: 'alice' });
    h.effects(1, { tenant: 'bob' });
    expect(effectsPerKey(h.history(), context)).toMatchObject({ valid: true, checked: 2 });
  });

  it('is not applicable when no attempt sent a key', () => {
    const h = new HistoryBuilder();
    h.send({ keySent: false, patternKind: 'missing-key' }, { status: 400, body: {} });
    expect(effectsPerKey(h.history(), context)).toEqual({
      checker: 'effectsPerKey',
      valid: true,
      checked: 0,
      anomalies: [],
      notes: ['not applicable: no attempt sent an Idempotency-Key'],
    });
  });
});
