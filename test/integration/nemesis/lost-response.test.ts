import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newRunPrefix } from '../../../src/demo/stack.js';
import { ToxiproxyApi, type Toxic } from '../../../src/nemesis/toxiproxy-api.js';
import { freshKey, samplePayment, startDemo, type RunningDemo } from '../../support/demo-target.js';

function errorCode(error: unknown): string {
  const { code, cause } = error as { code?: string; cause?: { code?: string } };
  return code ?? cause?.code ?? String(error);
}

describe('faults through the real Toxiproxy', () => {
  let demo: RunningDemo;
  let api: ToxiproxyApi;
  const prefix = newRunPrefix('test');

  async function lane(name: string, toxic?: Toxic): Promise<string> {
    const proxy = await api.createProxy({
      name: `${prefix}_${name}`,
      upstream: `127.0.0.1:${demo.target.port}`,
    });
    if (toxic !== undefined) await api.addToxic(proxy.name, toxic);
    return `http://127.0.0.1:${proxy.port}`;
  }

  beforeAll(async () => {
    demo = await startDemo();
    api = new ToxiproxyApi(inject('toxiproxyUrl'));
  });

  afterAll(async () => {
    for (const proxy of await api.listProxies()) {
      if (proxy.name.startsWith(prefix)) await api.removeProxy(proxy.name);
    }
    await demo.stop();
  });

  it('a downstream reset_peer loses the response of a request the target processed', async () => {
    const lostResponse = await lane('lost_response', {
      name: 'reset_response',
      type: 'reset_peer',
      stream: 'downstream',
      attributes: { timeout: 0 },
    });
    const key = freshKey('lost-response');
    const failure = await demo
      .pay(key, samplePayment(), { baseUrl: lostResponse, fresh: true })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeDefined();
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(errorCode(failure));

    // The target did the work: the payment row is in PostgreSQL.
    const rows = await demo.database.query<{ amount: string }>(
      'SELECT amount FROM payments WHERE idempotency_key = $1',
      [key],
    );
    expect(rows).toEqual([{ amount: '1250' }]);

    // The retry through a clean lane is a replay of that payment, not a second one.
    const clean = await lane('clean');
    const retry = await demo.pay(key, samplePayment(), { baseUrl: clean, fresh: true });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await demo.paymentsFor(key)).toHaveLength(1);
  });

  it('an upstream reset_peer loses the request before the target sees it', async () => {
    const lostRequest = await lane('lost_request', {
      name: 'reset_request',
      type: 'reset_peer',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const key = freshKey('lost-request');
    const failure = await demo
      .pay(key, samplePayment(), { baseUrl: lostRequest, fresh: true })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeDefined();
    expect(await demo.paymentsFor(key)).toHaveLength(0);
  });

  it('lists the proxies it made with their toxics, and removes them by name', async () => {
    const name = `${prefix}_listed`;
    await lane('listed', {
      name: 'slow',
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: 50, jitter: 0 },
    });
    const listed = (await api.listProxies()).find((proxy) => proxy.name === name);
    expect(listed?.toxics).toEqual([{ name: 'slow', type: 'latency', stream: 'downstream' }]);
    await api.removeProxy(name);
    await api.removeProxy(name); // already gone: not an error
    expect((await api.listProxies()).some((proxy) => proxy.name === name)).toBe(false);
  });
});
