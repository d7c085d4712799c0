import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  downstreamEffectsPerKey,
  forwardedKeyStable,
  downstreamEffects,
} from '../../../src/check/downstream.js';
import type { DownstreamEvent } from '../../../src/history/events.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { onlyAnomaly } from './expect-anomaly.js';
import { HistoryBuilder, payment } from './history-builder.js';

const context = { profile: PROFILES.default };

type CallSpec = Partial<Omit<DownstreamEvent, 'type' | 'index' | 'time' | 'scenario'>>;

/** Appends one downstream call to the builder's history. */
function call(h: HistoryBuilder, spec: CallSpec = {}): DownstreamEvent {
  const token = spec.token ?? 'k-1';
  const previous = h.events.filter(
    (event): event is DownstreamEvent => event.type === 'downstream' && event.token === token,
  ).length;
  const event: DownstreamEvent = {
    index: h.events.length,
    time: h.events.length * 3 + 1,
    scenario: 'payments',
    type: 'downstream',
    token,
    call: spec.call ?? previous + 1,
    forwardedKey: spec.forwardedKey === undefined ? 'pay-1' : spec.forwardedKey,
    forwardedHeader: spec.forwardedHeader ?? 'Idempotency-Key',
    answer: spec.answer ?? 'ok',
    processed: spec.processed ?? true,
  };
  h.events.push(event);
  return event;
}

describe('downstreamEffectsPerKey', () => {
  it('is not applicable without downstream calls', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    const result = downstreamEffectsPerKey(h.history(), context);
    expect(result).toMatchObject({ valid: true, checked: 0 });
    expect(result.notes[0]).toMatch(/^not applicable: /);
    expect(forwardedKeyStable(h.history(), context).checked).toBe(0);
  });

  it('holds when a dropped call is retried with the same forwarded key', () => {
    const h = new HistoryBuilder();
    call(h, { answer: 'drop' });
    call(h, { answer: 'ok' });
    h.send({}, { status: 201, body: payment('pay_1') });
    expect(downstreamEffectsPerKey(h.history(), context)).toMatchObject({
      valid: true,
      checked: 1,
      anomalies: [],
    });
    expect(forwardedKeyStable(h.history(), context)).toMatchObject({ valid: true, checked: 1 });
  });

  it('reports two effects when the retry carried a new key, linking the calls', () => {
    const h = new HistoryBuilder();
    const first = call(h, { answer: 'drop', forwardedKey: 'pay-a' });
    const second = call(h, { answer: 'ok', forwardedKey: 'pay-b' });
    const attempt = h.send({ key: 'k-1' }, { status: 201, body: payment('pay_1') });
    const anomaly = onlyAnomaly(
      downstreamEffectsPerKey(h.history(), context),
      'downstream-duplicate-effect',
    );
    expect(anomaly.message).toBe(
      "The downstream was called 2 times for key 'k-1' and did the work 2 times (calls 1 (drop) and 2 (ok)): the target retried its call with a new key, so the downstream could not tell its retry from a new request. Forward one key per operation, derived from the idempotency key, on every call and retry.",
    );
    expect(anomaly.events).toEqual([first.index, second.index, attempt.index, attempt.index + 1]);
    const changed = onlyAnomaly(forwardedKeyStable(h.history(), context), 'forwarded-key-changed');
    expect(changed.message).toContain('new value at call 2 (ok)');
    expect(changed.actual).toBe("2 values: 'pay-a' and 'pay-b'");
  });

  it('reports calls without the forwarded key, each its own effect', () => {
    const h = new HistoryBuilder();
    call(h, { answer: '503', processed: false, forwardedKey: null });
    call(h, { answer: 'drop', forwardedKey: null });
    call(h, { answer: 'ok', forwardedKey: null });
    h.send({}, { status: 201, body: payment('pay_1') });
    const anomaly = onlyAnomaly(
      downstreamEffectsPerKey(h.history(), context),
      'downstream-duplicate-effect',
    );
    expect(anomaly.actual).toBe('2 downstream effects from 3 calls');
    expect(anomaly.message).toContain('without a forwarded key (Idempotency-Key)');
    const missing = onlyAnomaly(forwardedKeyStable(h.history(), context), 'forwarded-key-missing');
    expect(missing.actual).toBe('calls 1 (503), 2 (drop) and 3 (ok) without Idempotency-Key');
  });

  it('reports a success without any processed downstream call', () => {
    const h = new HistoryBuilder();
    call(h, { answer: 'timeout', processed: false });
    call(h, { answer: '503', processed: false });
    h.send({}, { status: 201, body: payment('pay_1') });
    const anomaly = onlyAnomaly(
      downstreamEffectsPerKey(h.history(), context),
      'downstream-effect-missing',
    );
    expect(anomaly.message).toMatch(/^The target answered key 'k-1' with success/);
  });

  it('allows no effect when the target never answered 2xx', () => {
    const h = new HistoryBuilder();
    call(h, { answer: 'timeout', processed: false });
    h.send({}, { status: 502, body: { title: 'provider down' } });
    expect(downstreamEffectsPerKey(h.history(), context).valid).toBe(true);
  });

  it('matches tokens that are markers, not keys', () => {
    const h = new HistoryBuilder();
    call(h, { token: 'm-k-1', forwardedKey: 'x' });
    call(h, { token: 'm-k-1', forwardedKey: 'y' });
    h.send({}, { status: 201, body: payment('pay_1') });
    const anomaly = onlyAnomaly(
      downstreamEffectsPerKey(h.history(), context),
      'downstream-duplicate-effect',
    );
    expect(anomaly.message).toContain("the operation with marker 'm-k-1'");
  });

  it('does not judge forwarded keys when no header is declared', () => {
    const h = new HistoryBuilder();
    call(h, { forwardedKey: null, forwardedHeader: undefined as unknown as string });
    const events = h
      .history()
      .map((event) =>
        event.type === 'downstream' ? { ...event, forwardedHeader: undefined } : event,
      );
    expect(forwardedKeyStable(events as typeof h.events, context).checked).toBe(0);
  });
});

describe('downstream checks, property', () => {
  const answer = fc.constantFrom(
    { answer: 'ok', processed: true },
    { answer: 'drop', processed: true },
    { answer: 'slow 50 ms', processed: true },
    { answer: 'timeout', processed: false },
    { answer: '503', processed: false },
  );

  it('a stable forwarded key never makes more than one effect, and both checks agree', () => {
    fc.assert(
      fc.property(fc.array(answer, { minLength: 1, maxLength: 8 }), (answers) => {
        const h = new HistoryBuilder();
        for (const a of answers) call(h, { ...a, forwardedKey: 'pay-stable' });
        const anyProcessed = answers.some((a) => a.processed);
        h.send({}, anyProcessed ? { status: 201, body: payment('pay_1') } : { status: 502 });
        expect(downstreamEffectsPerKey(h.history(), context).valid).toBe(true);
        expect(forwardedKeyStable(h.history(), context).valid).toBe(true);
      }),
    );
  });

  it('effects are the distinct forwarded keys of processed calls plus the calls without one', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            processed: fc.boolean(),
            forwardedKey: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null }),
          }),
          { maxLength: 10 },
        ),
        (specs) => {
          const h = new HistoryBuilder();
          const calls = specs.map((spec) => call(h, spec));
          const processed = specs.filter((spec) => spec.processed);
          const expected =
            new Set(processed.map((spec) => spec.forwardedKey).filter((key) => key !== null)).size +
            processed.filter((spec) => spec.forwardedKey === null).length;
          expect(downstreamEffects(calls)).toHaveLength(expected);
          const result = downstreamEffectsPerKey(h.history(), context);
          expect(result.valid).toBe(expected <= 1);
        },
      ),
    );
  });
});
