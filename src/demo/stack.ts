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
import { startDemoTargetProcess, type DemoProcess } from './target-process.js';

export interface DemoStackOptions {
  readonly flaw?: Flaw;
  /** An existing PostgreSQL; otherwise DATABASE_URL; otherwise an embedded cluster. */
  readonly databaseUrl?: string | undefined;
  /** An existing Toxiproxy; otherwise the documented resolution order. */
  readonly toxiproxyUrl?: string | undefined;
  /** The demo target's port; 0 picks a free one. */
  readonly targetPort?: number;
  /** The port of the store proxy on 127.0.0.1; 0 or absent picks a free one. */
  readonly storePort?: number;
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
  /**
   * Run the target as a child process (`workers` > 1: a node:cluster of them), so scenarios
   * can crash and restart it with `process` (the stack's `process.commands`). Keeps
   * `keyTtlMs`, `lockTimeoutMs` and `processingMs`; not with `https` or `recordArrivals`.
   */
  readonly targetProcess?: { readonly workers?: number };
  readonly log?: (line: string) => void;
}

/** Everything `idemproof demo` runs, and where it listens. */
export interface DemoStack {
  readonly postgres: PostgresServer;
  readonly target: DemoTarget;
  readonly toxiproxy: ToxiproxyServer;
  /** A fault-free proxy in front of the target: traffic through it crosses Toxiproxy. */
  readonly cleanProxy: ProxyInfo;
  /**
   * The proxy the target reaches PostgreSQL through (`<prefix>_store`): a scenario declares it
   * as a dependency (listen → upstream) and idemproof adopts it. Undefined when the database
   * URL names no TCP host (a unix socket).
   */
  readonly store: ProxyInfo | undefined;
  readonly proxyUrl: string;
  /** Prefix of every proxy this stack created on the Toxiproxy server. */
  readonly proxyPrefix: string;
  /** With `https`: the CA (trust it with `target.tls.ca`), server and client certificates. */
  readonly tls: CertificateAuthorityFiles | undefined;
  /** With `targetProcess`: the target's process and the commands that crash and restart it. */
  readonly process?: DemoProcess | undefined;
  /** Stops everything in reverse order; safe to call twice. */
  stop(): Promise<void>;
}

/** A fresh name prefix, so proxies of concurrent runs on one shared Toxiproxy never collide. */
export function newRunPrefix(kind: string): string {
  return `idemproof_${kind}_${randomBytes(4).toString('hex')}`;
}

/**
 * Registers the removal of proxy `name` (made under `prefix` on `api`) for cleanup, before the
 * proxy exists so that a kill at any moment leaves it findable, and pushes onto `stops` a stop
 * that unregisters and removes it.
 */
export function trackProxy(
  api: ToxiproxyApi,
  name: string,
  prefix: string,
  stops: (() => Promise<void>)[],
): void {
  const remove = (): Promise<void> => api.removeProxy(name);
  const unregister = registerCleanup({
    name: `proxy ${name} on Toxiproxy ${api.url}`,
    run: remove,
    resource: { kind: 'proxies', toxiproxy: api.url, prefix },
  });
  stops.push(async () => {
    unregister();
    await remove();
  });
}

/**
 * The demo's key store proxy: `<prefix>_store` on a loopback port (free, or the one given), relaying to the
 * database, and the database URL with that address in it. Registered for removal before it
 * exists; removed by `stops`.
 */
async function createStoreProxy(
  api: ToxiproxyApi,
  prefix: string,
  databaseUrl: string,
  stops: (() => Promise<void>)[],
  port = 0,
): Promise<{ proxy: ProxyInfo; databaseUrl: string } | undefined> {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return undefined;
  }
  if (url.hostname === '' || url.searchParams.has('host')) return undefined;
  const upstream = `${url.hostname}:${url.port === '' ? '5432' : url.port}`;
  const name = `${prefix}_store`;
  trackProxy(api, name, prefix, stops);
  const proxy = await api.createProxy({ name, upstream, listen: `127.0.0.1:${port}` });
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return { proxy: { ...proxy, listen: `127.0.0.1:${proxy.port}` }, databaseUrl: url.toString() };
}

/**
 * Starts PostgreSQL (embedded unless a URL is given), Toxiproxy, a store proxy the target
 * reaches PostgreSQL through, and the demo target, and creates a clean proxy to the target. If any step fails, what was started is stopped.
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

    // Toxiproxy first: the target reaches PostgreSQL through the store proxy made on it.
    const toxiproxy = await startToxiproxy({ optionUrl: options.toxiproxyUrl });
    stops.push(() => toxiproxy.stop());
    const api = new ToxiproxyApi(toxiproxy.url);
    const proxyPrefix = newRunPrefix('demo');
    const store = await createStoreProxy(
      api,
      proxyPrefix,
      postgres.url,
      stops,
      options.storePort ?? 0,
    );

    let targetOptions: DemoTargetOptions = {
      databaseUrl: store?.databaseUrl ?? postgres.url,
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
    const child =
      options.targetProcess === undefined
        ? undefined
        : await startDemoTargetProcess(targetOptions, options.targetProcess.workers ?? 1);
    const target = child ?? (await startDemoTarget(targetOptions));
    stops.push(() => target.close());

    const proxyName = `${proxyPrefix}_clean`;
    trackProxy(api, proxyName, proxyPrefix, stops);
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
      store: store?.proxy,
      proxyUrl:
        tls === undefined
          ? `http://127.0.0.1:${cleanProxy.port}`
          : `https://localhost:${cleanProxy.port}`,
      proxyPrefix,
      tls,
      process: child?.process,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
