import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { describeLimits, TrafficGate } from '../../../src/run/gate.js';

describe('TrafficGate', () => {
  it('spaces request starts 1/maxRps apart, a burst taking as many slots as it has requests', async () => {
    let now = 0;
    const gate = new TrafficGate({ maxRps: 1000 }, () => now);
    const starts: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      expect(await gate.admit(1)).toBe(true);
      starts.push(performance.now());
      now += 0.01;
    }
    expect(await gate.admit(4)).toBe(true);
    // 1000 rps: each start waits for the previous slot; the burst pushes the next one 4 ms.
    expect(gate.requests).toBe(9);
    const waited = performance.now();
    expect(await gate.admit(1)).toBe(true);
    expect(performance.now() - waited).toBeGreaterThanOrEqual(3);
    gate.close();
  });

  it('gives no credit for idle time: after a pause the next start still waits its interval', async () => {
    let now = 0;
    const gate = new TrafficGate({ maxRps: 10 }, () => now);
    expect(await gate.admit()).toBe(true);
    now = 10_000;
    expect(await gate.admit()).toBe(true);
    const before = performance.now();
    const second = gate.admit();
    const early = await Promise.race([
      second,
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 50)),
    ]);
    expect(early).toBe('waiting');
    gate.stop({ kind: 'interrupted', signal: 'SIGINT', detail: 'interrupted by SIGINT' });
    expect(await second).toBe(false);
    expect(performance.now() - before).toBeLessThan(100);
  });

  it('refuses the request that would pass --max-requests, and closes with the reason', async () => {
    const gate = new TrafficGate({ maxRequests: 3 });
    expect(await gate.admit(2)).toBe(true);
    expect(await gate.admit(2)).toBe(false);
    expect(gate.stopped).toMatchObject({ kind: 'limit', limit: 'max-requests' });
    expect(gate.stopped?.detail).toBe('the run reached --max-requests 3 after 2 requests');
    expect(await gate.admit(1)).toBe(false);
    expect(gate.signal.aborted).toBe(true);
  });

  it('closes at --max-duration, ending pauses at once', async () => {
    const gate = new TrafficGate({ maxDurationMs: 30 });
    const started = performance.now();
    expect(await gate.sleep(5_000)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(gate.stopped).toMatchObject({ kind: 'limit', limit: 'max-duration' });
  });

  it('holds one abort listener however many pauses wait at once, and wakes them all when it closes', async () => {
    const gate = new TrafficGate();
    const pauses = Array.from({ length: 64 }, () => gate.sleep(60_000));
    expect(getEventListeners(gate.signal, 'abort')).toHaveLength(1);
    gate.stop({ kind: 'interrupted', signal: 'SIGINT', detail: 'interrupted by SIGINT' });
    expect(await Promise.all(pauses)).toEqual(Array.from({ length: 64 }, () => false));
    expect(await gate.sleep(1)).toBe(false);
  });

  it('keeps the first reason it was given', () => {
    const gate = new TrafficGate();
    gate.stop({ kind: 'interrupted', signal: 'SIGTERM', detail: 'interrupted by SIGTERM' });
    gate.stop({ kind: 'crashed', detail: 'later' });
    expect(gate.stopped).toMatchObject({ kind: 'interrupted', signal: 'SIGTERM' });
  });

  it('says its limits in one line', () => {
    expect(describeLimits({})).toBe('limits: no rate cap, no request cap, no time limit');
    expect(describeLimits({ maxRps: 50, maxRequests: 1000, maxDurationMs: 600_000 })).toBe(
      'limits: at most 50 requests/s, at most 1000 requests, stopping after 10m',
    );
  });
});
