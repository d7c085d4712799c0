import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sendSyncedBurst } from '../../../src/client/burst.js';
import {
  AttemptClient,
  type AttemptRequest,
  type AttemptResult,
  type TlsOptions,
  type TransportOptions,
} from '../../../src/client/send.js';
import { newRunPrefix } from '../../../src/demo/stack.js';
import { laneDefinition } from '../../../src/nemesis/lanes.js';
import { measureH2Prelude } from '../../../src/nemesis/tls-prelude.js';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import type { LaneName } from '../../../src/scenario/schema.js';
import { freshKey } from '../../support/demo-target.js';
import { startChunkRelay, startH2Target, type H2Target } from '../../support/h2-target.js';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from '../../support/tls-ca.js';

const SLOW_MS = 300;
/** The target's real host name: SNI and certificate checks use it, whatever address we dial. */
const HOST = 'api.example.test';

/** 201 for the first execution, 'replay' for a stored answer, else the error code. */
const outcome = (result: AttemptResult): number | string => {
  if (result.kind === 'error') return result.code;
  const replayed = result.response.headers.some(([name]) => name === 'idempotent-replayed');
  return replayed ? 'replay' : result.response.status;
};

describe.each(['h2c', 'h2'] as const)(
  'HTTP/2 (%s) attempts and single-packet bursts',
  (protocol) => {
    let target: H2Target;
    let authority: TestCertificateAuthority | undefined;
    let transport: TransportOptions;
    const scheme = protocol === 'h2' ? 'https' : 'http';
    let api: ToxiproxyApi;
    const prefix = newRunPrefix('test');
    const lanes = new Map<LaneName, string>();
    let prelude: number | undefined;

    /** A lane with the toxics idemproof installs for it, in front of the target. */
    async function lane(name: LaneName): Promise<string> {
      const found = lanes.get(name);
      if (found !== undefined) return found;
      // As a run makes them: lanes that lose the response let the measured opening through.
      prelude ??= await measureH2Prelude(`${scheme}://127.0.0.1:${target.port}`, transport);
      const definition = laneDefinition(name, { slowMs: SLOW_MS, preludeBytes: prelude });
      const proxy = await api.createProxy({
        name: `${prefix}_${protocol}_${name.replace(/-/g, '_')}`,
        upstream: `127.0.0.1:${target.port}`,
      });
      for (const toxic of definition.toxics) await api.addToxic(proxy.name, toxic);
      const address = `127.0.0.1:${proxy.port}`;
      lanes.set(name, address);
      return address;
    }

    function attempt(
      address: string,
      key: string,
      extra: Partial<AttemptRequest> = {},
    ): AttemptRequest {
      return {
        url: `${scheme}://${address}/things`,
        method: 'POST',
        headers: [
          ['host', HOST],
          ['idempotency-key', key],
          ['content-type', 'application/json'],
          ['connection', 'keep-alive'],
        ],
        body: JSON.stringify({ amount: 1250, key }),
        timeoutMs: 5000,
        freshConnection: false,
        transport,
        ...extra,
      };
    }

    beforeAll(async () => {
      if (protocol === 'h2') {
        authority = await createTestCertificateAuthority({ hosts: [HOST] });
        target = await startH2Target({
          protocol,
          tls: { key: authority.serverKey, cert: authority.serverCert },
        });
        transport = { protocol, tls: { servername: HOST, ca: authority.ca, insecure: false } };
      } else {
        target = await startH2Target({ protocol });
        transport = { protocol };
      }
      api = new ToxiproxyApi(inject('toxiproxyUrl'));
    });
    afterAll(async () => {
      for (const proxy of await api.listProxies())
        if (proxy.name.startsWith(prefix)) await api.removeProxy(proxy.name);
      await target.stop();
      await authority?.remove();
    });

    it('sends clean attempts over one shared session, with the target host as :authority', async () => {
      const client = new AttemptClient();
      const before = target.state.connections;
      const key = freshKey(`${protocol}-seq`);
      try {
        const results: AttemptResult[] = [];
        for (let index = 0; index < 3; index += 1)
          results.push(await client.send(attempt(`127.0.0.1:${target.port}`, key)));
        expect(results.map(outcome)).toEqual([201, 'replay', 'replay']);
        const first = results[0];
        if (first?.kind !== 'response') throw new Error('no response');
        expect(JSON.parse(first.response.body)).toMatchObject({
          version: '2.0',
          authority: 'api.example.test',
        });
        expect(first.response.headers).toContainEqual(['content-type', 'application/json']);
        expect(first.response.headers.every(([name]) => !name.startsWith(':'))).toBe(true);
        expect(target.effects(key)).toBe(1);
        expect(target.state.connections - before).toBe(1);
      } finally {
        await client.close();
      }
    });

    it('gives every attempt of a faulted lane a session of its own, closed afterwards', async () => {
      const client = new AttemptClient();
      const before = target.state.connections;
      const key = freshKey(`${protocol}-fresh`);
      try {
        const results: AttemptResult[] = [];
        for (let index = 0; index < 3; index += 1) {
          results.push(
            await client.send(attempt(`127.0.0.1:${target.port}`, key, { freshConnection: true })),
          );
        }
        expect(results.map(outcome)).toEqual([201, 'replay', 'replay']);
        expect(target.state.connections - before).toBe(3);
      } finally {
        await client.close();
      }
    });

    it('releases a burst of 16 with its final frames in one read, one response each', async () => {
      const relay = await startChunkRelay(target.port);
      const key = freshKey(`${protocol}-burst`);
      try {
        const burst = Array.from({ length: 16 }, () => attempt(`127.0.0.1:${relay.port}`, key));
        const { results, releasedAt } = await sendSyncedBurst(burst, () => performance.now());
        const statuses = results.map(outcome);
        expect(statuses.filter((status) => status === 201)).toHaveLength(1);
        expect(statuses.filter((status) => status === 'replay')).toHaveLength(15);
        expect(releasedAt).toHaveLength(16);
        expect(target.effects(key)).toBe(1);
        // Every final DATA frame (9-byte header + the last body byte) came in the first read
        // after the release.
        const afterRelease = relay.chunks.filter((chunk) => chunk.at >= (releasedAt[0] ?? 0));
        expect(afterRelease[0]?.bytes).toBeGreaterThanOrEqual(16 * 10);
        const arrivals = target.arrivals(key);
        expect(arrivals).toHaveLength(16);
        // Loose: one read's worth of frames, parsed in one process (figures: the benchmark).
        expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(50);
      } finally {
        await relay.stop();
      }
    });

    it('releases a burst with an empty body by holding END_STREAM back', async () => {
      const key = freshKey(`${protocol}-empty`);
      const burst = Array.from({ length: 4 }, () =>
        attempt(`127.0.0.1:${target.port}`, key, { body: null }),
      );
      const { results } = await sendSyncedBurst(burst, () => performance.now());
      expect(results.map(outcome).sort()).toEqual([201, 'replay', 'replay', 'replay']);
      expect(target.arrivals(key)).toHaveLength(4);
    });

    it.each(['clean', 'lost-request', 'lost-response', 'blackhole', 'slow-request'] as const)(
      'sends a burst through the %s lane on one session, and every request ends',
      async (name) => {
        const key = freshKey(`${protocol}-burst-${name}`);
        const address = await lane(name);
        const burst = Array.from({ length: 4 }, () =>
          attempt(address, key, { freshConnection: name !== 'clean', timeoutMs: 1500 }),
        );
        const started = performance.now();
        const { results } = await sendSyncedBurst(burst, () => performance.now());
        const statuses = results.map(outcome);
        if (name === 'clean' || name === 'slow-request') {
          expect(statuses.sort()).toEqual([201, 'replay', 'replay', 'replay']);
        } else {
          expect(statuses.every((status) => typeof status === 'string')).toBe(true);
        }
        if (name === 'blackhole') {
          expect(statuses).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
          expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
        }
        if (name === 'lost-request') expect(target.effects(key)).toBe(0);
      },
    );

    it('loses the request on the lost-request lane: an error, no effect', async () => {
      const client = new AttemptClient();
      const key = freshKey(`${protocol}-lost-request`);
      try {
        const result = await client.send(
          attempt(await lane('lost-request'), key, { freshConnection: true }),
        );
        expect(result.kind).toBe('error');
        expect(target.effects(key)).toBe(0);
        // The retry on a clean lane executes it.
        expect(outcome(await client.send(attempt(await lane('clean'), key)))).toBe(201);
      } finally {
        await client.close();
      }
    });

    it('ends a blackholed attempt with TIMEOUT at the client timeout', async () => {
      const client = new AttemptClient();
      try {
        const result = await client.send(
          attempt(await lane('blackhole'), freshKey(`${protocol}-blackhole`), {
            freshConnection: true,
            timeoutMs: 800,
          }),
        );
        expect(outcome(result)).toBe('TIMEOUT');
        expect(result.durationMs).toBeGreaterThanOrEqual(790);
        expect(result.durationMs).toBeLessThan(3000);
      } finally {
        await client.close();
      }
    });

    it.each(['slow-request', 'slow-response'] as const)(
      'answers through the %s lane, later by the lane latency',
      async (name) => {
        const client = new AttemptClient();
        const key = freshKey(`${protocol}-${name}`);
        try {
          const result = await client.send(
            attempt(await lane(name), key, { freshConnection: true }),
          );
          expect(outcome(result)).toBe(201);
          expect(result.durationMs).toBeGreaterThanOrEqual(SLOW_MS);
          expect(target.effects(key)).toBe(1);
        } finally {
          await client.close();
        }
      },
    );

    it('records a lost response on the lost-response lane as an error', async () => {
      const client = new AttemptClient();
      const key = freshKey(`${protocol}-lost-response`);
      try {
        const result = await client.send(
          attempt(await lane('lost-response'), key, { freshConnection: true }),
        );
        expect(result.kind).toBe('error');
        // A retry through a clean lane reaches the target whatever happened to the first one.
        expect([201, 'replay']).toContain(
          outcome(await client.send(attempt(await lane('clean'), key))),
        );
        expect(target.effects(key)).toBe(1);
      } finally {
        await client.close();
      }
    });

    it('records a stream reset with a stable code, and keeps the shared session usable', async () => {
      const client = new AttemptClient();
      try {
        const reset = await client.send({
          ...attempt(`127.0.0.1:${target.port}`, freshKey(`${protocol}-rst`)),
          url: `${scheme}://127.0.0.1:${target.port}/rst`,
        });
        expect(outcome(reset)).toBe('H2_RST_REFUSED_STREAM');
        const after = await client.send(
          attempt(`127.0.0.1:${target.port}`, freshKey(`${protocol}-rst`)),
        );
        expect(outcome(after)).toBe(201);
      } finally {
        await client.close();
      }
    });

    it('ends attempts in flight as INTERRUPTED when the run stops', async () => {
      const stop = new AbortController();
      const client = new AttemptClient({ stop: stop.signal });
      try {
        const pending = client.send(
          attempt(await lane('blackhole'), freshKey(`${protocol}-stop`), { freshConnection: true }),
        );
        setTimeout(() => stop.abort(new Error('test stop')), 200);
        const result = await pending;
        expect(outcome(result)).toBe('INTERRUPTED');
        expect(result.durationMs).toBeLessThan(2000);
      } finally {
        await client.close();
      }
    });

    it('says clearly that an HTTP/1.1-only server does not speak HTTP/2', async () => {
      const plain = await startH2Target({
        protocol: 'http1',
        ...(authority === undefined
          ? {}
          : { tls: { key: authority.serverKey, cert: authority.serverCert } }),
      });
      const client = new AttemptClient();
      try {
        const result = await client.send(
          attempt(`127.0.0.1:${plain.port}`, freshKey(`${protocol}-h1`)),
        );
        expect(result.kind).toBe('error');
        if (result.kind !== 'error') return;
        expect(result.code).toBe('H2_NOT_SPOKEN');
        expect(result.message).toContain(`127.0.0.1:${plain.port}`);
        expect(result.message).toContain('target.http');
        expect(plain.state.effects.size).toBe(0);
      } finally {
        await client.close();
        await plain.stop();
      }
    });
  },
);

describe('HTTP/2 over TLS: verification of the real host name, through a lane on 127.0.0.1', () => {
  let authority: TestCertificateAuthority;
  let target: H2Target;
  let mutual: H2Target;
  let api: ToxiproxyApi;
  let address: string;
  const prefix = newRunPrefix('test');

  beforeAll(async () => {
    authority = await createTestCertificateAuthority({ hosts: [HOST] });
    const tls = { key: authority.serverKey, cert: authority.serverCert };
    target = await startH2Target({ protocol: 'h2', tls });
    mutual = await startH2Target({
      protocol: 'h2',
      tls: { ...tls, ca: authority.ca, requestCert: true },
    });
    api = new ToxiproxyApi(inject('toxiproxyUrl'));
    const proxy = await api.createProxy({
      name: `${prefix}_tls_clean`,
      upstream: `127.0.0.1:${target.port}`,
    });
    address = `127.0.0.1:${proxy.port}`;
  });
  afterAll(async () => {
    for (const proxy of await api.listProxies())
      if (proxy.name.startsWith(prefix)) await api.removeProxy(proxy.name);
    await Promise.all([target.stop(), mutual.stop()]);
    await authority.remove();
  });

  async function sendOnce(where: string, tls: Partial<TlsOptions>): Promise<AttemptResult> {
    const client = new AttemptClient();
    try {
      return await client.send({
        url: `https://${where}/things`,
        method: 'POST',
        headers: [['idempotency-key', freshKey('h2-tls')]],
        body: '{}',
        timeoutMs: 5000,
        freshConnection: true,
        transport: {
          protocol: 'h2',
          tls: { servername: HOST, ca: authority.ca, insecure: false, ...tls },
        },
      });
    } finally {
      await client.close();
    }
  }

  it('trusts the given CA and checks the certificate against the servername', async () => {
    expect(outcome(await sendOnce(address, {}))).toBe(201);
    expect(outcome(await sendOnce(address, { servername: 'other.example.test' }))).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
  });

  it('refuses a certificate the system CAs do not know, unless insecure is opted into', async () => {
    const untrusted = await sendOnce(address, { ca: undefined });
    expect(untrusted.kind).toBe('error');
    expect(outcome(untrusted)).toMatch(/CERT|SELF_SIGNED|ISSUER|VERIFY/);
    expect(outcome(await sendOnce(address, { ca: undefined, insecure: true }))).toBe(201);
  });

  it('presents the client certificate to a server that requires one (mTLS)', async () => {
    const where = `127.0.0.1:${mutual.port}`;
    expect(
      outcome(await sendOnce(where, { cert: authority.clientCert, key: authority.clientKey })),
    ).toBe(201);
    expect((await sendOnce(where, {})).kind).toBe('error');
  });
});
