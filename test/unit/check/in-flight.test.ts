import { describe, expect, it } from 'vitest';
import { inFlightDuplicates } from '../../../src/check/in-flight.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

const context = { profile: PROFILES.default };
const burst = (h: HistoryBuilder, n: number) =>
  Array.from({ length: n }, (_, i) =>
    h.invoke({
      label: `burst 1, request ${i + 1}/${n}`,
      group: 'burst-1',
      patternKind: 'concurrent-burst',
    }),
  );

describe('inFlightDuplicates', () => {
  it('holds when concurrent duplicates get 409 or an identical replay', () => {
    const h = new HistoryBuilder();
    const [a, b, c] = burst(h, 3);
    if (a === undefined || b === undefined || c === undefined) throw new Error('burst');
    h.ok(a, { status: 201, body: payment('pay_1') });
    h.ok(b, { status: 409, body: { title: 'in progress' } });
    h.ok(c, { status: 201, body: payment('pay_1') });
    expect(inFlightDuplicates(h.history(), context)).toMatchObject({ valid: true, checked: 3 });
  });

  it('reports a 2xx with a different body as a likely second execution', () => {
    const h = new HistoryBuilder();
    const [a, b] = burst(h, 2);
    if (a === undefined || b === undefined) throw new Error('burst');
    h.ok(a, { status: 201, body: payment('pay_1') });
    h.ok(b, { status: 201, body: payment('pay_2') });
    const anomaly = onlyAnomaly(
      inFlightDuplicates(h.history(), context),
      'in-flight-second-execution',
    );
    expect(anomaly).toMatchObject({
      kind: 'in-flight-second-execution',
      actual: '201: $.id: "pay_1" vs "pay_2"',
    });
    expect(anomaly.message).toContain('the API most likely ran the request a second time');
    expect(anomaly.events).toEqual([a.index, b.index, b.index + 1, b.index + 2]);
  });

  it('reports any other response as wrong', () => {
    const h = new HistoryBuilder();
    const [a, b] = burst(h, 2);
    if (a === undefined || b === undefined) throw new Error('burst');
    h.ok(a, { status: 201, body: payment('pay_1') });
    h.ok(b, { status: 500, body: { error: 'deadlock detected' } });
    const anomaly = onlyAnomaly(
      inFlightDuplicates(h.history(), context),
      'in-flight-wrong-response',
    );
    expect(anomaly).toMatchObject({
      kind: 'in-flight-wrong-response',
      expected: '409, or a replay of the first response (201)',
    });
  });

  it('is unknown for a rate-limited duplicate, which never reached the idempotency layer', () => {
    const h = new HistoryBuilder();
    const [a, b] = burst(h, 2);
    if (a === undefined || b === undefined) throw new Error('burst');
    h.ok(a, { status: 201, body: payment('pay_1') });
    h.ok(b, { status: 429, body: { title: 'Too Many Requests' } });
    const result = inFlightDuplicates(h.history(), context);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toContain('rate-limited (429)');
  });

  it('is unknown when a duplicate has nothing to be compared with', () => {
    const h = new HistoryBuilder();
    const [a, b] = burst(h, 2);
    if (a === undefined || b === undefined) throw new Error('burst');
    h.info(a);
    h.ok(b, { status: 503, body: {} });
    expect(inFlightDuplicates(h.history(), context).valid).toBe('unknown');
  });

  it('is not applicable without attempts released together', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    expect(inFlightDuplicates(h.history(), context)).toMatchObject({ valid: true, checked: 0 });
  });
});
