import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttp1Server, type Server as Http1Server } from 'node:http';
import { createServer as createH2cServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sendSyncedBurst } from '../../../src/client/burst.js';
import {
  AttemptClient,
  outcomeOfError,
  type AttemptRequest,
  type AttemptResult,
  type TransportOptions,
} from '../../../src/client/send.js';
import { newRunPrefix } from '../../../src/demo/stack.js';
import { HistoryRecorder } from '../../../src/history/recorder.js';
import { createLanes, type LaneSet } from '../../../src/nemesis/lanes.js';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { runSuite } from '../../../src/run/run.js';
import { tlsPreludeFor } from '../../../src/run/transport.js';
import type { LaneName } from '../../../src/scenario/schema.js';
import { freshKey } from '../../support/demo-target.js';
import { startH2Target, type H2Target } from '../../support/h2-target.js';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from '../../support/tls-ca.js';

/**
 * The fault lanes over HTTP/2, made as a run makes them: the target's opening (SETTINGS, the
 * ACK of ours, a PING answer; for h2 the TLS handshake too) is measured, and the lanes that
 * lose the response let exactly that through. So the request reaches the target (its arrivals
 * are counted per key) and the response is lost, on single attempts and in single-packet bursts.
 */

const SLOW_MS = 300;
const HOST = 'api.example.test';
const ALL_LANES: LaneName[] = [
  'lost-response',
  'blackhole',
  'lost-request',
  'slow-request',
  'slow-response',
];

describe.each(['h2c', 'h2'] as const)(
  'HTTP/2 fault lanes (%s), as a run makes them',
  (protocol) => {
    let target: H2Target;
    let authority: TestCertificateAuthority | undefined;
    let transport: TransportOptions;
    let lanes: LaneSet;
    let prelude: number | undefined;
    const scheme = protocol === 'h2' ? 'https' : 'http';
    const client = new AttemptClient();

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
      const base = `${scheme}://127.0.0.1:${target.port}`;
      prelude = await tlsPreludeFor(transport, base, ALL_LANES);
      lanes = await createLanes({
        api: new ToxiproxyApi(inject('toxiproxyUrl')),
        prefix: newRunPrefix('test'),
        upstream: `127.0.0.1:${target.port}`,
        lanes: ALL_LANES,
        slowMs: SLOW_MS,
        preludeBytes: prelude,
        recorder: new HistoryRecorder(),
        scenario: `h2 lanes ${protocol}`,
      });
    });
    afterAll(async () => {
      await client.close();
      await lanes.remove();
      await target.stop();
      await authority?.remove();
    });

    function attempt(lane: LaneName, key: string, timeoutMs = 2000): AttemptRequest {
      return {
        url: `${scheme}://${lanes.address(lane)}/things`,
        method: 'POST',
        headers: [
          ['host', HOST],
          ['idempotency-key', key],
          ['content-type', 'application/json'],
        ],
        body: JSON.stringify({ amount: 1250, key }),
        timeoutMs,
        freshConnection: lanes.definition(lane).freshConnection,
        transport,
      };
    }

    /** The outcome a run records for a result of `lane`: ok, fail or info (unknown). */
    const outcome = (lane: LaneName, result: AttemptResult): string =>
      result.kind === 'response'
        ? 'ok'
        : outcomeOfError(result.code, lanes.definition(lane).delivers);

    /** Waits (bounded) until `key` arrived `count` times; returns how many arrived. */
    async function arrived(key: string, count: number, withinMs = 3000): Promise<number> {
      const until = performance.now() + withinMs;
      while (target.arrivals(key).length < count && performance.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 20));
      return target.arrivals(key).length;
    }

    it('measures the opening: SETTINGS, the ACK of ours and a PING answer (and TLS for h2)', () => {
      // A node:http2 server sends an empty SETTINGS (9 bytes), the ACK (9) and the PING ACK
      // (17): 35 bytes, plus the margin of 4 for h2c; h2 adds a TLS handshake and tickets.
      if (protocol === 'h2c') expect(prelude).toBe(39);
      else expect(prelude).toBeGreaterThan(1000);
      expect(lanes.definition('lost-response').toxics[0]).toMatchObject({
        type: 'limit_data',
        attributes: { bytes: prelude },
      });
    });

    it('lost-response delivers 20 of 20 single attempts and loses every response', async () => {
      const keys = Array.from({ length: 20 }, (_, index) => freshKey(`${protocol}-lr-${index}`));
      const results: AttemptResult[] = [];
      for (const key of keys) results.push(await client.send(attempt('lost-response', key)));
      expect(results.map((result) => outcome('lost-response', result))).toEqual(
        keys.map(() => 'info'),
      );
      const delivered = await Promise.all(keys.map((key) => arrived(key, 1)));
      expect(delivered).toEqual(keys.map(() => 1));
      for (const key of keys) expect(target.effects(key)).toBe(1);
    });

    it('lost-response delivers every request of a single-packet burst and loses every response', async () => {
      for (let round = 0; round < 3; round += 1) {
        const key = freshKey(`${protocol}-lr-burst-${round}`);
        const burst = Array.from({ length: 8 }, () => attempt('lost-response', key));
        const { results } = await sendSyncedBurst(burst, () => performance.now());
        expect(results.map((result) => outcome('lost-response', result))).toEqual(
          burst.map(() => 'info'),
        );
        expect(await arrived(key, 8)).toBe(8);
      }
    });

    it('blackhole delivers and ends at the client timeout, single attempts and a burst', async () => {
      const keys = Array.from({ length: 4 }, (_, index) => freshKey(`${protocol}-bh-${index}`));
      const single = await Promise.all(
        keys.map((key) => client.send(attempt('blackhole', key, 800))),
      );
      const burstKey = freshKey(`${protocol}-bh-burst`);
      const { results: burst } = await sendSyncedBurst(
        Array.from({ length: 4 }, () => attempt('blackhole', burstKey, 800)),
        () => performance.now(),
      );
      for (const result of [...single, ...burst]) {
        expect(result).toMatchObject({ kind: 'error', code: 'TIMEOUT' });
        expect(result.durationMs).toBeGreaterThanOrEqual(790);
        expect(result.durationMs).toBeLessThan(2500);
        expect(outcome('blackhole', result)).toBe('info');
      }
      expect(await Promise.all(keys.map((key) => arrived(key, 1)))).toEqual([1, 1, 1, 1]);
      expect(await arrived(burstKey, 4)).toBe(4);
    });

    it.each(['slow-request', 'slow-response'] as const)(
      '%s delivers with a client timeout shorter than the lane latency',
      async (lane) => {
        // The opening takes several lane latencies; it happens before the attempt's clock.
        const keys = Array.from({ length: 3 }, (_, index) =>
          freshKey(`${protocol}-${lane}-${index}`),
        );
        const results = await Promise.all(keys.map((key) => client.send(attempt(lane, key, 250))));
        for (const result of results) {
          expect(result).toMatchObject({ kind: 'error', code: 'TIMEOUT' });
          expect(result.durationMs).toBeLessThan(1000);
        }
        expect(await Promise.all(keys.map((key) => arrived(key, 1)))).toEqual([1, 1, 1]);
        const burstKey = freshKey(`${protocol}-${lane}-burst`);
        const { results: burst } = await sendSyncedBurst(
          Array.from({ length: 4 }, () => attempt(lane, burstKey, 250)),
          () => performance.now(),
        );
        expect(burst.map((result) => result.kind)).toEqual(['error', 'error', 'error', 'error']);
        expect(await arrived(burstKey, 4)).toBe(4);
      },
    );

    it('lost-request delivers nothing, single attempts and a burst', async () => {
      const keys = Array.from({ length: 4 }, (_, index) => freshKey(`${protocol}-lq-${index}`));
      const results = await Promise.all(
        keys.map((key) => client.send(attempt('lost-request', key))),
      );
      const burstKey = freshKey(`${protocol}-lq-burst`);
      const { results: burst } = await sendSyncedBurst(
        Array.from({ length: 4 }, () => attempt('lost-request', burstKey)),
        () => performance.now(),
      );
      for (const result of [...results, ...burst])
        expect(outcome('lost-request', result)).toBe('fail');
      // Nothing arrives later either.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const key of [...keys, burstKey]) expect(target.arrivals(key)).toHaveLength(0);
    });
  },
);

/** An h2c target that ignores the Idempotency-Key (every request executes) and an HTTP/1.1
 * port that reports the effects per key, for a whole run. */
async function startKeylessTarget(): Promise<{
  h2c: number;
  probe: number;
  effects: Map<string, number>;
  stop(): Promise<void>;
}> {
  const effects = new Map<string, number>();
  const h2c: Http2Server = createH2cServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const key = String(request.headers['idempotency-key'] ?? '');
      effects.set(key, (effects.get(key) ?? 0) + 1);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: `thing_${key}_${effects.get(key)}` }));
    });
  });
  const probe: Http1Server = createHttp1Server((request, response) => {
    const key = new URL(request.url ?? '/', 'http://x').searchParams.get('key') ?? '';
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ count: effects.get(key) ?? 0 }));
  });
  const listen = async (server: Http2Server | Http1Server): Promise<number> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const close = (server: Http2Server | Http1Server): Promise<void> =>
    new Promise((resolve) => server.close(() => resolve()));
  const sessions = new Set<{ destroy(): void }>();
  h2c.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    h2c: await listen(h2c),
    probe: await listen(probe),
    effects,
    async stop() {
      for (const session of sessions) session.destroy();
      probe.closeAllConnections();
      await Promise.all([close(h2c), close(probe)]);
    },
  };
}

describe('a whole h2c scenario through the lost-response lane', () => {
  let folder: string;
  let target: Awaited<ReturnType<typeof startKeylessTarget>>;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-h2-lanes-'));
    target = await startKeylessTarget();
  });
  afterAll(async () => {
    await target.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('catches a target that ignores the key: every lost response was executed, then retried', async () => {
    const lostResponse = '  - { kind: lost-response, retries: 1 }\n'.repeat(5);
    const yaml = `name: h2c keyless
target: { baseUrl: http://127.0.0.1:1, path: /things, http: h2c }
payload: { template: { amount: 100, note: 'n-{{marker}}' } }
effects: { http: { url: 'http://127.0.0.1:${target.probe}/things?key={{key}}', count: $.count } }
settleMs: 0
patterns:
${lostResponse}`;
    await writeFile(join(folder, 'keyless.yaml'), yaml);
    const { result } = await runSuite({
      paths: [join(folder, 'keyless.yaml')],
      target: `http://127.0.0.1:${target.h2c}`,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, 'reports'),
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    expect(result.valid).toBe(false);
    const failed = (result.scenarios[0]?.checks ?? []).filter((check) => check.valid === false);
    expect(failed.map((check) => check.checker)).toContain('effectsPerKey');
    // Each of the 5 keys: the original reached the target through the lost-response lane, and
    // the retry executed again.
    const counts = [...target.effects.entries()].filter(([key]) => key !== '').map(([, n]) => n);
    expect(counts).toEqual([2, 2, 2, 2, 2]);
  });
});
