import { describe, expect, it } from 'vitest';
import { conflictOnMismatch } from '../../../src/check/conflict-on-mismatch.js';
import { PROFILES, type Profile } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

const check = (h: HistoryBuilder, profile: Profile = PROFILES.default) =>
  conflictOnMismatch(h.history(), { profile });
const mismatch = {
  variant: 'different',
  label: 'different payload',
  patternKind: 'payload-mismatch',
} as const;
const conflict = {
  status: 409,
  body: { title: 'Idempotency-Key reused with a different payload' },
};

describe('conflictOnMismatch', () => {
  it('holds when the different payload is refused and the original still gets its result', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.send(mismatch, conflict);
    h.send({ label: 'original again' }, { status: 201, body: payment('pay_1') });
    expect(check(h)).toMatchObject({ valid: true, checked: 1, anomalies: [] });
  });

  it('says the API does not compare payloads when it replays the first response', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.send(mismatch, { status: 201, body: payment('pay_1') });
    const anomaly = onlyAnomaly(check(h), 'mismatch-accepted');
    expect(anomaly.message).toContain(
      'The API replayed the first response for a different request: it does not compare payloads',
    );
    expect(anomaly.curl).toContain('"amount":2500');
  });

  it('reports a different payload that was processed', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.send(mismatch, { status: 201, body: payment('pay_2', { amount: 2500 }) });
    const anomaly = onlyAnomaly(check(h), 'mismatch-accepted');
    expect(anomaly.message).toContain('processed a different request under the same key');
  });

  it('reports a status other than the profile mismatch status', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.send(mismatch, conflict);
    const anomaly = onlyAnomaly(check(h, PROFILES.ietf), 'mismatch-wrong-status');
    expect(anomaly).toMatchObject({
      kind: 'mismatch-wrong-status',
      actual: '409',
      expected: '422 (profile mismatchStatus)',
    });
  });

  it('accepts the in-flight status only while an original attempt is in flight', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    const racing = h.invoke({ label: 'original, concurrent', group: 'g' });
    const different = h.invoke({ ...mismatch, group: 'g' });
    h.ok(different, conflict);
    h.ok(racing, { status: 201, body: payment('pay_1') });
    expect(check(h, PROFILES.ietf).valid).toBe(true);
  });

  it('lets a different payload win the race for a fresh key when no original succeeds', () => {
    const h = new HistoryBuilder();
    const original = h.invoke({ label: 'original, concurrent', group: 'g' });
    const different = h.invoke({ ...mismatch, group: 'g' });
    h.ok(different, { status: 201, body: payment('pay_9', { amount: 2500 }) });
    h.ok(original, conflict);
    const result = check(h);
    expect(result).toMatchObject({ valid: true, anomalies: [] });
    expect(result.notes.join(' ')).toContain('reached the API first, which is allowed');
  });

  it('reports both payloads succeeding when they race for a fresh key', () => {
    const h = new HistoryBuilder();
    const original = h.invoke({ label: 'original, concurrent', group: 'g' });
    const different = h.invoke({ ...mismatch, group: 'g' });
    h.ok(different, { status: 201, body: payment('pay_9', { amount: 2500 }) });
    h.ok(original, { status: 201, body: payment('pay_1') });
    onlyAnomaly(check(h), 'mismatch-accepted');
  });

  it('reports an original result changed by the mismatch', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.send(mismatch, conflict);
    h.send({ label: 'original again' }, { status: 201, body: payment('pay_1', { amount: 2500 }) });
    const anomaly = onlyAnomaly(check(h), 'original-result-changed');
    expect(anomaly.actual).toBe('201: $.amount: 1000 vs 2500');
    expect(anomaly.message).toContain(
      "after 'different payload' (lane clean) sent a different payload, 'original again' (lane clean) (the original payload) no longer got the first response",
    );
  });

  it('is unknown when the original outcome was unknown when the different payload was sent', () => {
    const h = new HistoryBuilder();
    h.lost({ label: 'original' });
    h.send(mismatch, { status: 201, body: payment('pay_2') });
    const result = check(h);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toContain('may have been the key');
  });

  it('is unknown when no response to the different payload was received', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.lost(mismatch);
    expect(check(h).valid).toBe('unknown');
  });

  it('does not judge a different payload sent while the key was free', () => {
    const h = new HistoryBuilder();
    h.notDelivered({ label: 'original' });
    h.send(mismatch, { status: 201, body: payment('pay_2') });
    const result = check(h);
    expect(result.valid).toBe(true);
    expect(result.notes[0]).toContain("was the key's first use");
  });

  it('is not applicable without different payloads', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    expect(check(h)).toMatchObject({
      valid: true,
      checked: 0,
      notes: ['not applicable: no attempt sent a different payload under a key'],
    });
  });
});
