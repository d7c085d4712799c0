import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../provision/cleanup.js';
import { startPostgres, type PostgresServer } from '../provision/postgres.js';
import { createCertificateAuthority, type CertificateAuthorityFiles } from '../provision/tls-ca.js';
import { startToxiproxy, type ToxiproxyServer } from '../provision/toxiproxy-start.js';
import { ToxiproxyApi, type ProxyInfo } from '../nemesis/toxiproxy-api.js';
import type { Flaw } from './flaws.js';
import { startDemoTarget, type DemoTarget, type DemoTargetOptions } from './server.js';

export interface DemoStackOptions {
  readonly flaw?: Flaw;
  /** An existing PostgreSQL; otherwise DATABASE_URL; otherwise an embedded cluster. */
  readonly databaseUrl?: string | undefined;
  /** An existing Toxiproxy; otherwise the documented resolution order. */
  readonly toxiproxyUrl?: string | undefined;
  /** The demo target's port; 0 picks a free one. */
  readonly targetPort?: number;
  readonly keyTtlMs?: number;
  readonly lockTimeoutMs?: number;
  readonly processingMs?: number;
  /** Record server-side arrival times per key (GET /arrivals). */
  readonly recordArrivals?: boolean;
  /**
   * Serve HTTPS, with a certificate for localhost and 127.0.0.1 from a CA made at start in a
   * temporary folder (removed on stop); `tls` says where its files are.
   */
  readonly https?: boolean;
  readonly log?: (line: string) => void;
}

/** Everything `idemproof demo` runs, and where it listens. */
export interface DemoStack {
  readonly postgres: PostgresServer;
  readonly target: DemoTarget;
  readonly toxiproxy: ToxiproxyServer;
  /** A fault-free proxy in front of the target: traffic through it crosses Toxiproxy. */
  readonly cleanProxy: ProxyInfo;
  readonly proxyUrl: string;
  /** Prefix of every proxy this stack created on the Toxiproxy server. */
  readonly proxyPrefix: string;
  /** With `https`: the CA (trust it with `target.tls.ca`), server and client certificates. */
  readonly tls: CertificateAuthorityFiles | undefined;
  /** Stops everything in reverse order; safe to call twice. */
  stop(): Promise<void>;
}

/** A fresh name prefix, so proxies of concurrent runs on one shared Toxiproxy never collide. */
export function newRunPrefix(kind: string): string {
  return `idemproof_${kind}_${randomBytes(4).toString('hex')}`;
}

/**
 * Starts PostgreSQL (embedded unless a URL is given), the demo target and Toxiproxy, and
 * creates a clean proxy to the target. If any step fails, what was started is stopped.
 */
export async function startDemoStack(options: DemoStackOptions = {}): Promise<DemoStack> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((error: unknown) => errors.push(error));
    }
    if (errors.length > 0) throw errors[0];
  };
  try {
    const postgres = await startPostgres({ databaseUrl: options.databaseUrl });
    stops.push(() => postgres.stop());

    let targetOptions: DemoTargetOptions = {
      databaseUrl: postgres.url,
      port: options.targetPort ?? 0,
      flaw: options.flaw ?? 'none',
      ...(options.keyTtlMs === undefined ? {} : { keyTtlMs: options.keyTtlMs }),
      ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
      ...(options.processingMs === undefined ? {} : { processingMs: options.processingMs }),
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.recordArrivals === undefined ? {} : { recordArrivals: options.recordArrivals }),
    };
    let tls: CertificateAuthorityFiles | undefined;
    if (options.https === true) {
      const dir = await mkdtemp(join(tmpdir(), 'idemproof-demo-tls-'));
      stops.push(() => rm(dir, { recursive: true, force: true }));
      tls = await createCertificateAuthority(dir, { hosts: ['localhost', '127.0.0.1'] });
      const [cert, key] = await Promise.all([
        readFile(tls.serverCert, 'utf8'),
        readFile(tls.serverKey, 'utf8'),
      ]);
      targetOptions = { ...targetOptions, tls: { cert, key } };
    }
    const target = await startDemoTarget(targetOptions);
    stops.push(() => target.close());

    const toxiproxy = await startToxiproxy({ optionUrl: options.toxiproxyUrl });
    stops.push(() => toxiproxy.stop());

    const api = new ToxiproxyApi(toxiproxy.url);
    const proxyPrefix = newRunPrefix('demo');
    const proxyName = `${proxyPrefix}_clean`;
    const removeProxy = (): Promise<void> => api.removeProxy(proxyName);
    // Registered before it exists, so a kill at any moment leaves it findable.
    const unregisterProxy = registerCleanup({
      name: `proxy ${proxyName} on Toxiproxy ${api.url}`,
      run: removeProxy,
      resource: { kind: 'proxies', toxiproxy: api.url, prefix: proxyPrefix },
    });
    stops.push(async () => {
      unregisterProxy();
      await removeProxy();
    });
    const cleanProxy = await api.createProxy({
      name: proxyName,
      upstream: `127.0.0.1:${target.port}`,
    });

    let stopping: Promise<void> | undefined;
    return {
      postgres,
      target,
      toxiproxy,
      cleanProxy,
      proxyUrl:
        tls === undefined
          ? `http://127.0.0.1:${cleanProxy.port}`
          : `https://localhost:${cleanProxy.port}`,
      proxyPrefix,
      tls,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
