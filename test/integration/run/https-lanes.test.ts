import { readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HistoryEvent } from '../../../src/history/events.js';
import { runSuite } from '../../../src/run/run.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from '../../support/tls-ca.js';

/**
 * HTTPS targets through every fault lane: the demo target serves HTTPS with a certificate for
 * `localhost` only and requires a client certificate; the scenario trusts the test CA and
 * presents the client certificate (mTLS). TLS passes through Toxiproxy untouched, so every
 * lane must do to an HTTPS request what it does to an HTTP one.
 */

const LANES_SCENARIO = (baseUrl: string): string => `name: https lanes
target:
  baseUrl: ${baseUrl}
  path: /payments
  timeoutMs: 1500
  tls: { ca: ca.pem, cert: client.pem, key: client-key.pem }
key: { template: 'tls-{{run}}-{{n}}' }
payload:
  template: { amount: 100, currency: EUR, customer: 'cus_{{marker}}' }
  different: { amount: 7 }
effects:
  http: { url: '/payments?idempotency_key={{key}}', count: $.count }
faults: { slowMs: 400 }
overrides: { retentionMs: null }
patterns:
  - kind: sequential-duplicates
    count: 3
    lanes: [clean]
  - kind: lost-response
    retries: 1
  - kind: lost-response
    lane: blackhole
    retries: 1
  - kind: lost-request
  - kind: slow-timeout
    lane: slow-request
    clientTimeoutMs: 200
    retryAtMs: [900]
    settleMs: 600
  - kind: slow-timeout
    lane: slow-response
    clientTimeoutMs: 200
    retryAtMs: [900]
    settleMs: 600
  - kind: concurrent-burst
    count: 8
    rounds: 2
    release: last-byte
`;

type Invoke = Extract<HistoryEvent, { type: 'invoke' }>;

/** Every attempt's lane, pattern kind, key, completion type, error code and duration. */
function attempts(history: readonly HistoryEvent[]) {
  const invokes = new Map<string, Invoke>();
  const rows: {
    lane: string;
    kind: string;
    key: string;
    type: string;
    code: string | null;
    durationMs: number;
    timeoutMs: number;
  }[] = [];
  for (const event of history) {
    if (event.type === 'invoke') invokes.set(event.op, event);
    if (event.type === 'ok' || event.type === 'fail' || event.type === 'info') {
      const invoke = invokes.get(event.op);
      if (invoke === undefined) continue;
      rows.push({
        lane: invoke.lane,
        kind: invoke.patternKind,
        key: invoke.key ?? '',
        type: event.type,
        code: event.type === 'ok' ? null : event.error.code,
        durationMs: event.durationMs,
        timeoutMs: invoke.timeoutMs,
      });
    }
  }
  return rows;
}

describe('HTTPS targets through every fault lane', () => {
  let ca: TestCertificateAuthority;
  let demo: RunningDemo;

  beforeAll(async () => {
    ca = await createTestCertificateAuthority({ hosts: ['localhost'] });
    demo = await startDemo({
      recordArrivals: true,
      tls: {
        cert: ca.serverCert,
        key: ca.serverKey,
        ca: ca.ca,
        requireClientCertificate: true,
      },
    });
  });
  afterAll(async () => {
    await demo.stop();
    await ca.remove();
  });

  /** GET over mTLS straight to the demo target. */
  function get(path: string): Promise<unknown> {
    const url = new URL(path, demo.target.url);
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        url,
        { ca: ca.ca, cert: ca.clientCert, key: ca.clientKey, timeout: 5000 },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          response.on('end', () => resolve(JSON.parse(text) as unknown));
        },
      );
      request.on('error', reject);
      request.end();
    });
  }

  async function run(name: string, yaml: string, reporters: string[] = ['json']) {
    const path = join(ca.files.dir, `${name}.yaml`);
    await writeFile(path, yaml);
    return runSuite({
      paths: [path],
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(ca.files.dir, 'reports'),
      reporters,
      out: () => undefined,
      err: () => undefined,
      progress: () => undefined,
      interactive: false,
    });
  }

  it('runs every lane and a last-byte burst over HTTPS with mTLS, each lane doing what it does over HTTP', async () => {
    expect(demo.target.url).toMatch(/^https:\/\/localhost:\d+$/);
    const { result, history } = await run('lanes', LANES_SCENARIO(demo.target.url), [
      'json',
      'html',
    ]);
    const scenario = result.scenarios[0];
    expect(scenario?.error).toBeNull();
    expect(scenario?.valid).toBe(true);
    expect(scenario?.transport).toEqual({
      protocol: 'http1',
      tls: { servername: 'localhost', ca: 'custom', clientCertificate: true, insecure: false },
    });

    const rows = attempts(history);
    const of = (lane: string) => rows.filter((row) => row.lane === lane);
    // Clean: every attempt answered (sequential duplicates, retries, the bursts).
    expect(of('clean').length).toBeGreaterThan(16);
    expect(of('clean').every((row) => row.type === 'ok')).toBe(true);
    // Lost request: reset before the target got it, so certainly not processed.
    expect(of('lost-request').length).toBe(1);
    expect(of('lost-request').every((row) => row.type === 'fail')).toBe(true);
    // Lost response and blackhole: outcome unknown; the blackhole ends at the client timeout.
    expect(of('lost-response').map((row) => row.type)).toEqual(['info']);
    expect(of('blackhole').map((row) => [row.type, row.code])).toEqual([['info', 'TIMEOUT']]);
    const blackholed = of('blackhole')[0];
    expect(blackholed?.durationMs).toBeGreaterThanOrEqual((blackholed?.timeoutMs ?? 0) - 5);
    // Slow lanes: the original gives up at its 200 ms timeout (the lane adds 400 ms).
    for (const lane of ['slow-request', 'slow-response']) {
      expect(of(lane).map((row) => [row.type, row.code])).toEqual([['info', 'TIMEOUT']]);
    }

    // The target really received (and so processed) the requests whose response was lost.
    for (const lane of ['lost-response', 'blackhole', 'slow-request', 'slow-response']) {
      const key = of(lane)[0]?.key ?? '';
      const seen = (await get(`/arrivals?idempotency_key=${encodeURIComponent(key)}`)) as {
        arrivals_ms: number[];
      };
      expect({ lane, arrivals: seen.arrivals_ms.length }).toEqual({ lane, arrivals: 2 });
    }
    // Each burst round reached the target as 8 requests on 8 TLS connections, one effect.
    const burstKeys = [
      ...new Set(rows.filter((row) => row.kind === 'concurrent-burst').map((row) => row.key)),
    ];
    expect(burstKeys.length).toBe(2);
    for (const key of burstKeys) {
      const seen = (await get(`/arrivals?idempotency_key=${encodeURIComponent(key)}`)) as {
        arrivals_ms: number[];
      };
      expect(seen.arrivals_ms.length).toBe(8);
    }
    const released = history.filter(
      (event) => (event.type === 'ok' || event.type === 'info') && event.releasedAt !== undefined,
    );
    expect(released.length).toBe(16);

    const reportDir = join(ca.files.dir, 'reports', result.runId);
    const json = JSON.parse(await readFile(join(reportDir, 'results.json'), 'utf8')) as {
      scenarios: { transport: unknown }[];
    };
    expect(json.scenarios[0]?.transport).toEqual(scenario?.transport);
    // The HTML escapes colons (&#58;).
    const html = (await readFile(join(reportDir, 'index.html'), 'utf8')).replaceAll('&#58;', ':');
    expect(html).toContain('HTTP/1.1 over TLS: SNI localhost, custom CA, client certificate');
    expect(html).not.toContain('verification was OFF');
  }, 90_000);
});
