import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sendSyncedBurst } from '../../../src/client/burst.js';
import type { AttemptRequest } from '../../../src/client/send.js';
import { newRunPrefix } from '../../../src/demo/stack.js';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { send } from '../../support/http.js';
import { freshKey, samplePayment, startDemo, type RunningDemo } from '../../support/demo-target.js';

describe('synchronised bursts (last-byte release)', () => {
  let demo: RunningDemo;
  let api: ToxiproxyApi;
  const prefix = newRunPrefix('test');

  beforeAll(async () => {
    demo = await startDemo({ recordArrivals: true });
    api = new ToxiproxyApi(inject('toxiproxyUrl'));
  });
  afterAll(async () => {
    for (const proxy of await api.listProxies())
      if (proxy.name.startsWith(prefix)) await api.removeProxy(proxy.name);
    await demo.stop();
  });

  function burst(base: string, key: string, count: number): AttemptRequest[] {
    return Array.from({ length: count }, () => ({
      url: `${base}/payments`,
      method: 'POST',
      headers: [
        ['host', new URL(demo.target.url).host],
        ['idempotency-key', key],
        ['content-type', 'application/json'],
      ],
      body: JSON.stringify(samplePayment()),
      timeoutMs: 5000,
      freshConnection: true,
    }));
  }

  async function arrivals(key: string): Promise<number[]> {
    const response = await send(
      `${demo.target.url}/arrivals?idempotency_key=${encodeURIComponent(key)}`,
    );
    return (JSON.parse(response.body) as { arrivals_ms: number[] }).arrivals_ms;
  }

  it.each([
    ['directly', false],
    ['through a clean Toxiproxy lane', true],
  ])(
    'delivers 16 same-key requests %s, each complete, with one effect',
    async (_how, throughProxy) => {
      let base = demo.target.url;
      if (throughProxy) {
        const proxy = await api.createProxy({
          name: `${prefix}_clean`,
          upstream: `127.0.0.1:${demo.target.port}`,
        });
        base = `http://127.0.0.1:${proxy.port}`;
      }
      const key = freshKey('synced');
      const { results, releasedAt } = await sendSyncedBurst(burst(base, key, 16), () =>
        performance.now(),
      );
      expect(results).toHaveLength(16);
      expect(releasedAt).toHaveLength(16);
      expect([...releasedAt].sort((a, b) => a - b)).toEqual(releasedAt);
      const statuses = results.map((result) =>
        result.kind === 'response' ? result.response.status : result.code,
      );
      expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
      expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(1);
      expect(await arrivals(key)).toHaveLength(16);
      expect(await demo.paymentsFor(key)).toHaveLength(1);
    },
  );

  it('with a keep-alive agent, reuses one connection per request slot from burst to burst', async () => {
    let connections = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end('{}'));
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (let round = 0; round < 3; round += 1) {
        const { results } = await sendSyncedBurst(
          burst(base, `reuse-${round}`, 8),
          () => performance.now(),
          { agent },
        );
        expect(
          results.map((result) => result.kind === 'response' && result.response.status),
        ).toEqual(Array.from({ length: 8 }, () => 200));
      }
      expect(connections).toBe(8);
    } finally {
      agent.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  });

  it('reports every request of a burst to a closed port as an error, without hanging', async () => {
    const { results } = await sendSyncedBurst(
      burst('http://127.0.0.1:1', freshKey('closed'), 3),
      () => performance.now(),
    );
    expect(results.map((result) => result.kind === 'error' && result.code)).toEqual([
      'ECONNREFUSED',
      'ECONNREFUSED',
      'ECONNREFUSED',
    ]);
  });

  it('records nothing at /arrivals unless the demo target was asked to', async () => {
    const plain = await startDemo();
    try {
      expect((await send(`${plain.target.url}/arrivals?idempotency_key=x`)).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
