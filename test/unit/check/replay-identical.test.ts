import { describe, expect, it } from 'vitest';
import { replayIdenticalResponses } from '../../../src/check/replay-identical.js';
import { overrideProfile, PROFILES, type Profile } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

const check = (h: HistoryBuilder, profile: Profile = PROFILES.default) =>
  replayIdenticalResponses(h.history(), { profile });
const location: [string, string] = ['location', '/payments/pay_1'];

describe('replayIdenticalResponses', () => {
  it('holds when every retry gets the same status, body and significant headers', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1'), headers: [location] });
    h.lost({ label: 'retry 1' });
    h.send(
      { label: 'retry 2' },
      { status: 201, body: payment('pay_1'), headers: [location, ['date', 'later']] },
    );
    expect(check(h)).toMatchObject({ valid: true, checked: 1, anomalies: [] });
  });

  it('reports a different status on a replay', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1'), headers: [location] });
    const retry = h.send(
      { label: 'retry 1' },
      { status: 200, body: payment('pay_1'), headers: [location] },
    );
    const result = check(h);
    expect(result.valid).toBe(false);
    expect(result.anomalies).toHaveLength(1);
    expect(result.anomalies[0]).toMatchObject({
      kind: 'replay-status-differs',
      expected: 'status 201, as first answered',
      actual: 'status 200',
    });
    expect(result.anomalies[0]?.message).toMatch(
      /^Key 'k-1': 'retry 1' \(lane clean\) got 200, but the first response to this key was 201\./,
    );
    expect(result.anomalies[0]?.events).toEqual([0, 1, retry.index, retry.index + 1]);
  });

  it('shows the differing JSON paths of a different body, both values', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1'), headers: [location] });
    h.send(
      { label: 'retry 1' },
      {
        status: 201,
        body: payment('pay_1', { created_at: '2025-01-01T10:00:05.000Z' }),
        headers: [location],
      },
    );
    const anomaly = onlyAnomaly(check(h), 'replay-body-differs');
    expect(anomaly.actual).toBe(
      '$.created_at: "2025-01-01T10:00:00.000Z" vs "2025-01-01T10:00:05.000Z"',
    );
    expect(anomaly.message).toContain('$.created_at');
  });

  it('ignores the profile JSON paths, but only those', () => {
    const profile = overrideProfile(PROFILES.default, {
      replayIgnore: { headers: [], jsonPaths: ['$.request_id'] },
    });
    const same = new HistoryBuilder();
    same.send({}, { status: 201, body: { ...payment('pay_1'), request_id: 'r1' } });
    same.send({}, { status: 201, body: { request_id: 'r2', ...payment('pay_1') } });
    expect(check(same, profile).valid).toBe(true);

    const different = new HistoryBuilder();
    different.send({}, { status: 201, body: { ...payment('pay_1'), request_id: 'r1' } });
    different.send({}, { status: 201, body: { ...payment('pay_2'), request_id: 'r2' } });
    const anomaly = onlyAnomaly(check(different, profile), 'replay-body-differs');
    expect(anomaly.actual).toBe('$.id: "pay_1" vs "pay_2"');
  });

  it('is unknown when ignored paths cannot be removed from a body cut at the recording limit', () => {
    const profile = overrideProfile(PROFILES.default, {
      replayIgnore: { headers: [], jsonPaths: ['$.request_id'] },
    });
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: { ...payment('pay_1'), request_id: 'r1' } });
    h.send(
      { label: 'retry 1' },
      { status: 201, body: { ...payment('pay_1'), request_id: 'r2' }, recordedChars: 20 },
    );
    const result = check(h, profile);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toMatch(
      /^Key 'k-1', 'retry 1' \(lane clean\): a body was cut at the recording limit/,
    );
  });

  it('reports a missing or changed significant header', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1'), headers: [location] });
    h.send({ label: 'retry 1' }, { status: 201, body: payment('pay_1') });
    const anomaly = onlyAnomaly(check(h), 'replay-header-differs');
    expect(anomaly).toMatchObject({
      kind: 'replay-header-differs',
      actual: "location: '/payments/pay_1' vs (absent)",
    });
  });

  it('does not compare a significant header the profile says to ignore', () => {
    const profile = overrideProfile(PROFILES.default, {
      replayIgnore: { headers: ['Location'], jsonPaths: [] },
    });
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1'), headers: [location] });
    h.send(
      {},
      { status: 201, body: payment('pay_1'), headers: [['location', '/payments/pay_1?replayed']] },
    );
    expect(check(h, profile).valid).toBe(true);
  });

  it('requires the replay header on every attempt sent after the first response was stored', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    h.send(
      { label: 'retry 1' },
      { status: 201, body: payment('pay_1'), headers: [['Idempotent-Replayed', 'True']] },
    );
    h.send({ label: 'retry 2' }, { status: 201, body: payment('pay_1') });
    const result = check(h, PROFILES.stripe);
    expect(result.anomalies.map((a) => a.kind)).toEqual(['replay-marker-missing']);
    expect(result.anomalies[0]?.message).toContain(
      "'retry 2' (lane clean) was sent after the first response was stored, but its response lacks 'idempotent-replayed: true' (found: no such header)",
    );
  });

  it('ignores a 5xx before the first real response unless the profile says 5xx responses are replayed', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 500, body: { error: 'boom' } });
    h.send({ label: 'retry 1' }, { status: 201, body: payment('pay_1') });
    h.send({ label: 'retry 2' }, { status: 201, body: payment('pay_1') });
    expect(check(h).valid).toBe(true);
    const replay = overrideProfile(PROFILES.default, { firstAttempt5xx: 'replay' });
    const anomalies = check(h, replay).anomalies;
    expect(anomalies.map((a) => [a.kind, a.actual])).toEqual([
      [
        'replay-status-differs',
        'status 201; body: $.error: "boom" vs (absent); $.id: (absent) vs "pay_1"; $.amount: (absent) vs 1000; $.currency: (absent) vs "EUR"; $.customer: (absent) vs "cus_1" (and 2 more paths)',
      ],
      [
        'replay-status-differs',
        'status 201; body: $.error: "boom" vs (absent); $.id: (absent) vs "pay_1"; $.amount: (absent) vs 1000; $.currency: (absent) vs "EUR"; $.customer: (absent) vs "cus_1" (and 2 more paths)',
      ],
    ]);
    expect(anomalies[0]?.message).toContain('firstAttempt5xx: replay');
  });

  it('reports a 5xx that comes after the first real response', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    h.send({ label: 'retry 1' }, { status: 503, body: { error: 'unavailable' } });
    expect(check(h).anomalies[0]?.kind).toBe('replay-status-differs');
  });

  it('leaves in-flight refusals, 429s and different payloads to other checkers', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    h.send({}, { status: 409, body: { title: 'in progress' } });
    h.send({}, { status: 429, body: { title: 'slow down' } });
    h.send({ variant: 'different' }, { status: 409, body: { title: 'mismatch' } });
    expect(check(h)).toMatchObject({ valid: true, checked: 0 });
  });

  it('is not applicable with a single response per key, and notes an unusable ignore path', () => {
    const profile = overrideProfile(PROFILES.default, {
      replayIgnore: { headers: [], jsonPaths: ['request_id'] },
    });
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    const result = check(h, profile);
    expect(result.valid).toBe(true);
    expect(result.notes[0]).toContain("replayIgnore.jsonPaths entry 'request_id' is not a path");
    expect(result.notes[1]).toMatch(/^not applicable: /);
  });
});
