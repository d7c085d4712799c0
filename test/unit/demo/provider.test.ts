import { afterEach, describe, expect, it } from 'vitest';
import { chargeProvider, forwardedKeyOf } from '../../../src/demo/provider.js';
import { HttpProblem } from '../../../src/demo/http-io.js';
import { startSink, type DownstreamCall, type Sink } from '../../../src/probe/sink.js';

/** The demo's payment provider call against a real programmed sink on 127.0.0.1. */
let sink: Sink | undefined;

afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function provider(answers: Parameters<Sink['program']>[0]): Promise<{
  url: string;
  calls: DownstreamCall[];
  sink: Sink;
}> {
  sink = await startSink();
  const calls: DownstreamCall[] = [];
  sink.program(answers, (call) => calls.push(call));
  return { url: `${sink.url}/k-1`, calls, sink };
}

describe('forwardedKeyOf', () => {
  it('is stable per tenant and key, and differs across them', () => {
    expect(forwardedKeyOf('alice', 'k-1')).toBe(forwardedKeyOf('alice', 'k-1'));
    expect(forwardedKeyOf('alice', 'k-1')).toMatch(/^pay-[0-9a-f]{32}$/);
    expect(forwardedKeyOf('bob', 'k-1')).not.toBe(forwardedKeyOf('alice', 'k-1'));
    expect(forwardedKeyOf('alice', undefined)).not.toBe(forwardedKeyOf('alice', undefined));
  });
});

describe('chargeProvider', () => {
  it('retries a 503 and a dropped call with the same forwarded key', async () => {
    const p = await provider({
      answers: [{ status: 503 }, 'drop', 'ok'],
      forwardedKey: 'Idempotency-Key',
    });
    await chargeProvider(p.url, 'pay-1', 'none');
    expect(p.calls.map((call) => [call.answer, call.forwardedKey])).toEqual([
      ['503', 'pay-1'],
      ['drop', 'pay-1'],
      ['ok', 'pay-1'],
    ]);
    expect(p.sink.count('k-1')).toBe(1);
  });

  it('fails with a 502 after three failed calls, and with a 502 at once on a 4xx', async () => {
    const p = await provider({ answers: [{ status: 503 }], forwardedKey: 'Idempotency-Key' });
    const failed = await chargeProvider(p.url, 'pay-1', 'none').catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(HttpProblem);
    expect(failed).toMatchObject({ status: 502 });
    expect(p.calls).toHaveLength(3);
    p.sink.program({ answers: [{ status: 422 }] });
    const refused = await chargeProvider(`${p.sink.url}/k-2`, 'pay-2', 'none').catch(
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ status: 502 });
    expect(p.sink.count('k-2')).toBe(0);
  });

  it('unforwarded-key sends no key; new-key-per-retry sends a new one on each retry', async () => {
    const p = await provider({ answers: ['drop', 'drop', 'ok'], forwardedKey: 'Idempotency-Key' });
    await chargeProvider(p.url, 'pay-1', 'unforwarded-key');
    expect(p.calls.map((call) => call.forwardedKey)).toEqual([null, null, null]);
    await chargeProvider(`${p.sink.url}/k-2`, 'pay-2', 'new-key-per-retry');
    const keys = p.calls.filter((call) => call.token === 'k-2').map((call) => call.forwardedKey);
    expect(keys[0]).toBe('pay-2');
    expect(new Set(keys).size).toBe(3);
    expect(p.sink.count('k-2')).toBe(3);
  });
});
