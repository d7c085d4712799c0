import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { join } from 'node:path';
import { runSuite } from '../../../src/run/run.js';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from '../../support/tls-ca.js';

/**
 * Who idemproof trusts over HTTPS and what it shows: the name sent as SNI and verified is
 * the target's host (`localhost`, the only name on the certificate) even though attempts
 * connect to a lane on 127.0.0.1; a client certificate is presented when given and the
 * target refuses without it; a CA that did not sign the target's certificate is refused with
 * a clear error; `insecure` skips the check and every report says so.
 */

interface TlsTarget {
  readonly url: string;
  /** SNI of each TLS connection. */
  readonly servernames: (string | false | null)[];
  /** Client certificate CN of each connection (null: none). */
  readonly clientNames: (string | null)[];
  /** Connection number of each POST. */
  readonly postConnections: number[];
  close(): Promise<void>;
}

/** A small keyed HTTPS target: POST stores one effect per Idempotency-Key, GET counts it. */
async function startTlsTarget(
  ca: TestCertificateAuthority,
  requireClientCertificate: boolean,
): Promise<TlsTarget> {
  const effects = new Map<string, string>();
  const servernames: (string | false | null)[] = [];
  const clientNames: (string | null)[] = [];
  const postConnections: number[] = [];
  const connections = new WeakMap<TLSSocket, number>();
  const server: Server = createServer(
    {
      cert: ca.serverCert,
      key: ca.serverKey,
      ca: ca.ca,
      requestCert: requireClientCertificate,
      rejectUnauthorized: requireClientCertificate,
    },
    (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'https://localhost');
        response.setHeader('content-type', 'application/json');
        if (request.method === 'GET' && url.pathname === '/things') {
          response.end(
            JSON.stringify({ count: effects.has(url.searchParams.get('key') ?? '') ? 1 : 0 }),
          );
          return;
        }
        if (request.method !== 'POST') {
          response.end('{}');
          return;
        }
        postConnections.push(connections.get(request.socket as TLSSocket) ?? -1);
        const key = String(request.headers['idempotency-key'] ?? '');
        const body = effects.get(key) ?? JSON.stringify({ id: `thing_${effects.size + 1}` });
        if (key !== '') effects.set(key, body);
        response.statusCode = 201;
        response.end(body);
      });
    },
  );
  server.on('secureConnection', (socket: TLSSocket) => {
    connections.set(socket, servernames.length);
    servernames.push(socket.servername);
    const peer = socket.getPeerCertificate();
    clientNames.push(typeof peer.subject?.CN === 'string' ? peer.subject.CN : null);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    servernames,
    clientNames,
    postConnections,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const scenario = (
  name: string,
  baseUrl: string,
  tls: string,
  patterns: string,
): string => `name: ${name}
target:
  baseUrl: ${baseUrl}
  path: /things
  timeoutMs: 3000
  tls: ${tls}
payload: { template: { amount: 1 } }
effects:
  http: { url: '/things?key={{key}}', count: $.count }
patterns:
${patterns}
`;

describe('HTTPS trust: SNI, mTLS, CA and insecure', () => {
  let ca: TestCertificateAuthority;
  let otherCa: TestCertificateAuthority;

  beforeAll(async () => {
    [ca, otherCa] = await Promise.all([
      createTestCertificateAuthority({ hosts: ['localhost'], name: 'idemproof test CA' }),
      createTestCertificateAuthority({ hosts: ['localhost'], name: 'another CA' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([ca.remove(), otherCa.remove()]);
  });

  async function run(name: string, yaml: string, out?: (text: string) => void) {
    const path = join(ca.files.dir, `${name}.yaml`);
    await writeFile(path, yaml);
    const outcome = await runSuite({
      paths: [path],
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(ca.files.dir, 'reports'),
      reporters: ['json', 'html', 'junit', ...(out === undefined ? [] : ['terminal'])],
      out: out ?? (() => undefined),
      err: () => undefined,
      progress: () => undefined,
      interactive: false,
    });
    const dir = join(ca.files.dir, 'reports', outcome.result.runId);
    const read = (file: string) => readFile(join(dir, file), 'utf8');
    return { ...outcome, read };
  }

  it('sends the target host as SNI through the lanes, presents the client certificate, and reuses burst connections on the clean lane', async () => {
    const target = await startTlsTarget(ca, true);
    try {
      const { result } = await run(
        'sni',
        scenario(
          'sni and mtls',
          target.url,
          '{ ca: ca.pem, cert: client.pem, key: client-key.pem }',
          `  - kind: concurrent-burst
    count: 4
    rounds: 3
  - kind: sequential-duplicates
    count: 3
    lanes: [clean, lost-response]`,
        ),
      );
      expect(result.scenarios[0]?.error).toBeNull();
      expect(result.scenarios[0]?.valid).toBe(true);
      expect(target.servernames.length).toBeGreaterThan(2);
      // The certificate names localhost only: a check against 127.0.0.1 would have failed.
      expect(new Set(target.servernames)).toEqual(new Set(['localhost']));
      expect(new Set(target.clientNames)).toEqual(new Set(['idemproof client']));
      // 3 rounds of 4 synchronised requests on at most 4 kept-alive TLS connections.
      const burstPosts = target.postConnections.slice(0, 12);
      expect(burstPosts.length).toBe(12);
      expect(new Set(burstPosts).size).toBeLessThanOrEqual(4);
    } finally {
      await target.close();
    }
  }, 60_000);

  it('is refused by a target that requires a client certificate when none is configured', async () => {
    const target = await startTlsTarget(ca, true);
    try {
      const { result } = await run(
        'no-client-cert',
        scenario(
          'no client certificate',
          target.url,
          '{ ca: ca.pem }',
          '  - kind: sequential-duplicates',
        ),
      );
      const scenarioResult = result.scenarios[0];
      expect(scenarioResult?.valid).toBe('unknown');
      expect(scenarioResult?.error?.code).toBe('IDEMPROOF_ERR_TARGET_UNREACHABLE');
      expect(scenarioResult?.error?.message).toMatch(
        /ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED .*set target\.tls\.cert and target\.tls\.key/s,
      );
      expect(target.postConnections).toEqual([]);
    } finally {
      await target.close();
    }
  }, 60_000);

  it('refuses a target whose certificate the configured CA did not sign, with a clear recorded error', async () => {
    const target = await startTlsTarget(ca, false);
    try {
      const { result, read } = await run(
        'wrong-ca',
        scenario(
          'wrong ca',
          target.url,
          `{ ca: ${join(otherCa.files.dir, 'ca.pem')} }`,
          '  - kind: sequential-duplicates',
        ),
      );
      const error = result.scenarios[0]?.error;
      expect(error?.code).toBe('IDEMPROOF_ERR_TARGET_UNREACHABLE');
      expect(error?.message).toContain(`target ${target.url} does not answer`);
      expect(error?.message).toMatch(
        /SELF_SIGNED_CERT_IN_CHAIN .*set target\.tls\.ca to the PEM of the CA/,
      );
      expect(target.postConnections).toEqual([]);
      const json = JSON.parse(await read('results.json')) as {
        scenarios: { error: { message: string } }[];
      };
      expect(json.scenarios[0]?.error.message).toContain('not trusted');
    } finally {
      await target.close();
    }
  }, 60_000);

  it('skips verification only when insecure says so, and every report shows it', async () => {
    const target = await startTlsTarget(ca, false);
    try {
      // Without a CA the system's CAs are used, which never signed the test certificate.
      const refused = await run(
        'system-ca',
        scenario('system ca', target.url, '{}', '  - kind: sequential-duplicates'),
      );
      expect(refused.result.scenarios[0]?.error?.message).toMatch(/unable to verify|self.signed/i);

      let terminal = '';
      const { result, read } = await run(
        'insecure',
        scenario(
          'insecure',
          target.url,
          '{ insecure: true }',
          `  - kind: sequential-duplicates
    lanes: [clean, lost-response]
  - kind: concurrent-burst
    count: 3
    rounds: 1`,
        ),
        (text) => (terminal += text),
      );
      expect(result.scenarios[0]?.error).toBeNull();
      expect(result.scenarios[0]?.valid).toBe(true);
      const json = JSON.parse(await read('results.json')) as {
        scenarios: { transport: unknown }[];
      };
      expect(json.scenarios[0]?.transport).toEqual({
        protocol: 'http1',
        tls: { servername: 'localhost', ca: 'system', clientCertificate: false, insecure: true },
      });
      const html = (await read('index.html')).replaceAll('&#58;', ':');
      expect(html).toContain('TLS certificate verification was OFF (target.tls.insecure)');
      expect(html).toContain('certificate NOT verified');
      expect(await read('junit.xml')).toContain('TLS certificate verification was OFF');
      expect(terminal).toContain('insecure: TLS certificate verification was OFF');
    } finally {
      await target.close();
    }
  }, 60_000);
});
