import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASSUMED_SERVICE_MS,
  HEAD_WORK_CEILING_MS,
  MAX_ORIGINS,
  NEW_CONNECTION_FLOOR_MS,
  REUSED_FLOOR_MS,
  SERVICE_SAMPLES,
  SETTLE_CAP_MS,
  SettleMemory,
  serviceSample,
  settlePause,
} from '../../../src/client/settle.js';

describe('settlePause', () => {
  it('uses a fixed setting as given, even below the floors', () => {
    expect(settlePause(0, { count: 16, reused: false, serviceMs: 5 })).toBe(0);
    expect(settlePause(37.5, { count: 2, reused: true, serviceMs: undefined })).toBe(37.5);
  });

  it('covers the burst times the service time above the floor of its connections', () => {
    expect(settlePause('auto', { count: 16, reused: false, serviceMs: 1.5 })).toBe(
      NEW_CONNECTION_FLOOR_MS + 24,
    );
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 1.5 })).toBe(
      REUSED_FLOOR_MS + 24,
    );
  });

  it('assumes ASSUMED_SERVICE_MS before the target was measured', () => {
    expect(settlePause('auto', { count: 10, reused: false, serviceMs: undefined })).toBe(
      NEW_CONNECTION_FLOOR_MS + 10 * ASSUMED_SERVICE_MS,
    );
  });

  it('counts a slow answer only up to the header-work ceiling', () => {
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 45 })).toBe(
      REUSED_FLOOR_MS + 16 * HEAD_WORK_CEILING_MS,
    );
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 45 })).toBe(
      settlePause('auto', { count: 16, reused: true, serviceMs: HEAD_WORK_CEILING_MS }),
    );
  });

  it('never goes below the floors nor above the cap', () => {
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 0 })).toBe(REUSED_FLOOR_MS);
    expect(settlePause('auto', { count: 16, reused: false, serviceMs: -3 })).toBe(
      NEW_CONNECTION_FLOOR_MS,
    );
    expect(settlePause('auto', { count: 64, reused: false, serviceMs: 80 })).toBeLessThan(
      SETTLE_CAP_MS,
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
        (count, reused, serviceMs) => {
          const pause = settlePause('auto', { count, reused, serviceMs });
          expect(pause).toBeGreaterThanOrEqual(reused ? REUSED_FLOOR_MS : NEW_CONNECTION_FLOOR_MS);
          expect(pause).toBeLessThanOrEqual(SETTLE_CAP_MS);
        },
      ),
    );
  });

  it('grows with the burst size and the service time, and is longer on new connections', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 63 }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (count, serviceMs, more) => {
          const base = settlePause('auto', { count, reused: true, serviceMs });
          expect(
            settlePause('auto', { count: count + 1, reused: true, serviceMs }),
          ).toBeGreaterThanOrEqual(base);
          expect(
            settlePause('auto', { count, reused: true, serviceMs: serviceMs + more }),
          ).toBeGreaterThanOrEqual(base);
          expect(settlePause('auto', { count, reused: false, serviceMs })).toBeGreaterThanOrEqual(
            base,
          );
        },
      ),
    );
  });
});

describe('serviceSample', () => {
  it('is the least time from release to a complete answer, failures left out', () => {
    expect(
      serviceSample([
        { releasedAt: 100, answeredAt: 104 },
        { releasedAt: 100.1, answeredAt: 102.6 },
        { releasedAt: 100.2, answeredAt: undefined },
      ]),
    ).toBeCloseTo(2.5, 9);
  });

  it('learns nothing when no request was answered', () => {
    expect(serviceSample([{ releasedAt: 1, answeredAt: undefined }])).toBeUndefined();
    expect(serviceSample([])).toBeUndefined();
  });
});

describe('SettleMemory', () => {
  it('estimates the median of the last samples, per target', () => {
    const memory = new SettleMemory();
    expect(memory.serviceMs('a:1')).toBeUndefined();
    memory.observe('a:1', 3);
    expect(memory.serviceMs('a:1')).toBe(3);
    memory.observe('a:1', 1);
    expect(memory.serviceMs('a:1')).toBe(2);
    memory.observe('a:1', 50);
    expect(memory.serviceMs('a:1')).toBe(3);
    expect(memory.serviceMs('b:1')).toBeUndefined();
    memory.observe('a:1', undefined);
    memory.observe('a:1', Number.NaN);
    expect(memory.serviceMs('a:1')).toBe(3);
  });

  it(`keeps only the last ${SERVICE_SAMPLES} samples, so it follows a target that changes`, () => {
    const memory = new SettleMemory();
    for (let index = 0; index < SERVICE_SAMPLES; index += 1) memory.observe('a:1', 40);
    for (let index = 0; index < SERVICE_SAMPLES; index += 1) memory.observe('a:1', 1);
    expect(memory.serviceMs('a:1')).toBe(1);
  });

  it(`forgets the least recently observed target beyond ${MAX_ORIGINS}`, () => {
    const memory = new SettleMemory();
    for (let index = 0; index <= MAX_ORIGINS; index += 1) memory.observe(`host:${index}`, 2);
    expect(memory.serviceMs('host:0')).toBeUndefined();
    expect(memory.serviceMs(`host:${MAX_ORIGINS}`)).toBe(2);
    expect(memory.serviceMs('host:1')).toBe(2);
  });
});
