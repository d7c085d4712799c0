import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import {
  answerFor,
  effectsOf,
  startSink,
  type DownstreamCall,
  type Sink,
} from '../../../src/probe/sink.js';

/**
 * The sink over real HTTP on 127.0.0.1: as today's counting endpoint, and programmed as a
 * flaky downstream (ok, drop, timeout, a status, slow), recording each call.
 */
let sink: Sink | undefined;

afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function started(): Promise<Sink> {
  sink = await startSink();
  return sink;
}

type Reply = { status: number } | { error: string };

async function call(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{"charge":true}',
      reset: true,
    });
    await response.body.dump();
    return { status: response.statusCode };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

describe('the sink without a downstream', () => {
  it('answers 204 and counts every call per last path segment', async () => {
    const s = await started();
    expect(await call(`${s.url}/k-1`)).toEqual({ status: 204 });
    expect(await call(`${s.url}/k-1`)).toEqual({ status: 204 });
    expect(await call(`${s.url}/other/k-2`)).toEqual({ status: 204 });
    expect(s.count('k-1')).toBe(2);
    expect(s.count('k-2')).toBe(1);
    expect(s.count('k-3')).toBe(0);
  });
});

describe('the sink as a programmed downstream', () => {
  it('answers each call of a token by its number, the last answer repeating, and records it', async () => {
    const s = await started();
    const calls: DownstreamCall[] = [];
    s.program(
      { answers: [{ status: 503 }, 'ok', { status: 404 }], forwardedKey: 'Idempotency-Key' },
      (recorded) => calls.push(recorded),
    );
    const headers = { 'idempotency-key': 'pay-1' };
    expect(await call(`${s.url}/k-1`, headers)).toEqual({ status: 503 });
    expect(await call(`${s.url}/k-1`, headers)).toEqual({ status: 204 });
    expect(await call(`${s.url}/k-1`)).toEqual({ status: 404 });
    expect(await call(`${s.url}/k-1`, headers)).toEqual({ status: 404 });
    expect(await call(`${s.url}/k-2`, headers)).toEqual({ status: 503 });
    expect(calls).toEqual([
      {
        token: 'k-1',
        call: 1,
        forwardedKey: 'pay-1',
        forwardedHeader: 'Idempotency-Key',
        answer: '503',
        processed: false,
      },
      {
        token: 'k-1',
        call: 2,
        forwardedKey: 'pay-1',
        forwardedHeader: 'Idempotency-Key',
        answer: 'ok',
        processed: true,
      },
      {
        token: 'k-1',
        call: 3,
        forwardedKey: null,
        forwardedHeader: 'Idempotency-Key',
        answer: '404',
        processed: false,
      },
      {
        token: 'k-1',
        call: 4,
        forwardedKey: 'pay-1',
        forwardedHeader: 'Idempotency-Key',
        answer: '404',
        processed: false,
      },
      {
        token: 'k-2',
        call: 1,
        forwardedKey: 'pay-1',
        forwardedHeader: 'Idempotency-Key',
        answer: '503',
        processed: false,
      },
    ]);
    expect(s.count('k-1')).toBe(1);
    expect(s.count('k-2')).toBe(0);
  });

  it('drop: processes the call, then closes the connection without an answer', async () => {
    const s = await started();
    const calls: DownstreamCall[] = [];
    s.program({ answers: ['drop', 'ok'], forwardedKey: 'Idempotency-Key' }, (c) => calls.push(c));
    const first = await call(`${s.url}/k-1`, { 'idempotency-key': 'pay-1' });
    expect(first).toHaveProperty('error');
    expect(await call(`${s.url}/k-1`, { 'idempotency-key': 'pay-1' })).toEqual({ status: 204 });
    expect(calls.map((c) => [c.answer, c.processed])).toEqual([
      ['drop', true],
      ['ok', true],
    ]);
    // Both processed under one forwarded key: one effect.
    expect(s.count('k-1')).toBe(1);
  });

  it('counts processed calls without a forwarded key each as an effect', async () => {
    const s = await started();
    s.program({ answers: ['drop', 'ok'], forwardedKey: 'Idempotency-Key' });
    await call(`${s.url}/k-1`);
    await call(`${s.url}/k-1`);
    expect(s.count('k-1')).toBe(2);
  });

  it('counts every processed call when no forwarded key is declared', async () => {
    const s = await started();
    const calls: DownstreamCall[] = [];
    s.program({ answers: ['ok'] }, (c) => calls.push(c));
    await call(`${s.url}/k-1`, { 'idempotency-key': 'pay-1' });
    await call(`${s.url}/k-1`, { 'idempotency-key': 'pay-1' });
    expect(s.count('k-1')).toBe(2);
    expect(calls.every((c) => c.forwardedKey === null && !('forwardedHeader' in c))).toBe(true);
  });

  it('slow: processes the call and answers 2xx later', async () => {
    const s = await started();
    const calls: DownstreamCall[] = [];
    s.program({ answers: [{ slowMs: 50 }] }, (c) => calls.push(c));
    expect(await call(`${s.url}/k-1`)).toEqual({ status: 204 });
    expect(calls).toMatchObject([{ answer: 'slow 50 ms', processed: true }]);
    expect(s.count('k-1')).toBe(1);
  });

  it('timeout: never answers, and closing the sink releases the held request', async () => {
    const s = await started();
    let recorded: (() => void) | undefined;
    const arrived = new Promise<void>((resolve) => (recorded = resolve));
    s.program({ answers: ['timeout'] }, () => recorded?.());
    const pending = call(`${s.url}/k-1`);
    await arrived;
    expect(s.count('k-1')).toBe(0);
    await s.close();
    sink = undefined;
    expect(await pending).toHaveProperty('error');
  });

  it('after program(undefined), it is the counting sink again', async () => {
    const s = await started();
    const calls: DownstreamCall[] = [];
    s.program({ answers: [{ status: 503 }] }, (c) => calls.push(c));
    expect(await call(`${s.url}/k-1`)).toEqual({ status: 503 });
    s.program(undefined);
    expect(await call(`${s.url}/k-1`)).toEqual({ status: 204 });
    expect(calls).toHaveLength(1);
    expect(s.count('k-1')).toBe(2);
  });
});

describe('downstream answers and effects', () => {
  it('repeats the last answer', () => {
    const downstream = { answers: ['drop' as const, 'ok' as const] };
    expect([1, 2, 3, 9].map((n) => answerFor(downstream, n))).toEqual(['drop', 'ok', 'ok', 'ok']);
  });

  it('dedupes processed calls by forwarded key only when asked', () => {
    expect(effectsOf(['a', 'a', null, 'b', null], true)).toBe(4);
    expect(effectsOf(['a', 'a', null], false)).toBe(3);
    expect(effectsOf([], true)).toBe(0);
  });
});
