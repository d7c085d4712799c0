import { describe, expect, it } from 'vitest';
import { missingKeyRefused } from '../../../src/check/missing-key.js';
import { PROFILES, type Profile } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';

const check = (h: HistoryBuilder, profile: Profile = PROFILES.default) =>
  missingKeyRefused(h.history(), { profile });
const keyless = (n: number) =>
  ({
    keySent: false,
    marker: 'm-nokey',
    label: `without key ${n}`,
    patternKind: 'missing-key',
  }) as const;
const required = { status: 400, body: { title: 'Idempotency-Key required' } };

describe('missingKeyRefused', () => {
  it('holds when requests without a key are refused and make no effect', () => {
    const h = new HistoryBuilder();
    h.send(keyless(1), required);
    h.send(keyless(2), required);
    h.effects(0, { key: null, marker: 'm-nokey' });
    expect(check(h)).toMatchObject({ valid: true, checked: 1, anomalies: [] });
  });

  it('reports a request without a key that was processed; its one effect matches its 2xx', () => {
    const h = new HistoryBuilder();
    h.send(keyless(1), { status: 201, body: payment('pay_1') });
    h.effects(1, { key: null, marker: 'm-nokey' });
    const result = check(h);
    // The choice (processed where the profile refuses) is the status finding; one 2xx with one
    // effect is no defect of its own.
    expect(result.anomalies.map((a) => a.kind)).toEqual(['missing-key-accepted']);
    expect(result.anomalies[0]?.message).toMatch(
      /^'without key 1' \(lane clean\) was sent without an Idempotency-Key and got 201/,
    );
    expect(result.anomalies[0]?.curl).not.toContain('idempotency-key');
  });

  it('reports a refusal with the wrong status', () => {
    const h = new HistoryBuilder();
    h.send(keyless(1), { status: 422, body: {} });
    h.effects(0, { key: null, marker: 'm-nokey' });
    expect(check(h).anomalies[0]).toMatchObject({
      kind: 'missing-key-wrong-status',
      expected: '400 (profile missingKey.status)',
    });
  });

  it('reports an effect even when the status was right', () => {
    const h = new HistoryBuilder();
    h.send(keyless(1), required);
    h.effects(1, { key: null, marker: 'm-nokey' });
    expect(check(h).anomalies.map((a) => a.kind)).toEqual(['missing-key-made-effect']);
  });

  it('is unknown, with a note about {marker}, when the probe cannot count keyless requests', () => {
    const h = new HistoryBuilder();
    h.send(keyless(1), required);
    const result = check(h);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toContain('the effect probe has no {marker} to count keyless requests');
  });

  it('expects one effect per 2xx when the profile says requests without a key are processed', () => {
    const good = new HistoryBuilder();
    good.send(keyless(1), { status: 201, body: payment('pay_1') });
    good.send(keyless(2), { status: 201, body: payment('pay_2') });
    good.effects(2, { key: null, marker: 'm-nokey' });
    expect(check(good, PROFILES.stripe).valid).toBe(true);

    const bad = new HistoryBuilder();
    bad.send(keyless(1), required);
    bad.send(keyless(2), { status: 201, body: payment('pay_2') });
    bad.effects(2, { key: null, marker: 'm-nokey' });
    const kinds = check(bad, PROFILES.stripe).anomalies.map((a) => a.kind);
    // The request refused with 400 still made an effect: 2 effects for one 2xx.
    expect(kinds).toEqual(['missing-key-wrong-status', 'missing-key-made-effect']);
  });

  it('does not judge a rate-limited request (429): unknown', () => {
    const h = new HistoryBuilder();
    h.send(keyless(1), { status: 429, body: { title: 'Too Many Requests' } });
    h.effects(0, { key: null, marker: 'm-nokey' });
    const result = check(h);
    expect(result).toMatchObject({ valid: 'unknown', anomalies: [] });
    expect(result.notes[0]).toContain('rate-limited (429)');
  });

  it('is not applicable when every request sent its key', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    expect(check(h)).toMatchObject({ valid: true, checked: 0 });
  });
});
