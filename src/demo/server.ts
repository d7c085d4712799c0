import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { IdemproofError, describeError } from '../errors.js';
import { CHARGES_PREFIX, chargesRoute } from './charges.js';
import { CONFORMANCE_PREFIX, conformanceRoute } from './conformance.js';
import type { Flaw } from './flaws.js';
import {
  HttpProblem,
  MAX_KEY_LENGTH,
  idempotencyKeyOf,
  jsonResponse,
  problemResponse,
  readJsonBody,
  send,
  tenantOf,
  type StoredResponse,
} from './http-io.js';
import { runIdempotent, type GuardSettings, type Operation } from './idempotency.js';
import {
  changeOrder,
  getOrder,
  listOrderEvents,
  parseOrderChange,
  parseOrderId,
} from './orders.js';
import { createPayment, getPayment, listPayments, parsePaymentRequest } from './payments.js';
import { migrate } from './schema.js';

export interface DemoTargetOptions {
  /** PostgreSQL connection string; the target creates its tables if missing. */
  readonly databaseUrl: string;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly flaw?: Flaw;
  /** Key retention, published at GET /idempotency-policy. Default 24 h. */
  readonly keyTtlMs?: number;
  /** An in-progress reservation older than this may be taken over. Default 30 s. */
  readonly lockTimeoutMs?: number;
  /** Simulated payment-provider time per effect. Default 0. */
  readonly processingMs?: number;
  /** Called with unexpected errors (a 500 is answered). */
  readonly log?: (line: string) => void;
  /**
   * Record when each keyed request's body completed, per tenant and key, and serve them at
   * GET /arrivals?idempotency_key=K: how tightly a burst really arrived, measured here.
   */
  readonly recordArrivals?: boolean;
  /** Serve HTTPS instead of HTTP (PEM texts, e.g. from `provision/tls-ca.ts`). */
  readonly tls?: DemoTls;
}

export interface DemoTls {
  readonly cert: string;
  readonly key: string;
  /** CA that client certificates must chain to (with `requireClientCertificate`). */
  readonly ca?: string;
  /** Refuse connections without a client certificate signed by `ca` (mTLS). */
  readonly requireClientCertificate?: boolean;
  /** The name the certificate is for, used in `url` (default localhost). */
  readonly hostName?: string;
}

export interface DemoTarget {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly flaw: Flaw;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

interface RequestContext {
  readonly pool: pg.Pool;
  readonly settings: GuardSettings;
  readonly log: (line: string) => void;
  readonly arrivals: Arrivals | undefined;
}

/** Arrival times (ms, monotonic) per tenant and key, for at most MAX_ARRIVAL_KEYS keys. */
type Arrivals = Map<string, number[]>;
const MAX_ARRIVAL_KEYS = 100_000;
const ARRIVAL_SETTLE_MS = 2;

/**
 * The arrival of a request is when its last body byte reached this process: the request's
 * end, which the HTTP parser signals in the same turn as the socket read that completed it.
 */
function recordArrival(arrivals: Arrivals, request: IncomingMessage): void {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') return;
  const scope = `${request.headers.authorization ?? ''}\n${key}`;
  request.once('end', () => {
    const arrived = performance.now();
    const times = arrivals.get(scope);
    if (times !== undefined) times.push(arrived);
    else if (arrivals.size < MAX_ARRIVAL_KEYS) arrivals.set(scope, [arrived]);
  });
}

/**
 * Reads the body. When arrivals are recorded, the handler then waits ARRIVAL_SETTLE_MS, so
 * every body of a burst that completes within that time is read and timestamped before any
 * handler work runs (otherwise each handler's database work delays the next timestamp).
 */
async function readBody(context: RequestContext, request: IncomingMessage): Promise<unknown> {
  const body = await readJsonBody(request);
  if (context.arrivals !== undefined)
    await new Promise((resolve) => setTimeout(resolve, ARRIVAL_SETTLE_MS));
  return body;
}

function arrivalsResponse(arrivals: Arrivals, request: IncomingMessage, url: URL): StoredResponse {
  const key = url.searchParams.get('idempotency_key') ?? '';
  const times = arrivals.get(`${request.headers.authorization ?? ''}\n${key}`) ?? [];
  const spread = times.length === 0 ? 0 : Math.max(...times) - Math.min(...times);
  return jsonResponse(200, { idempotency_key: key, arrivals_ms: times, spread_ms: spread });
}

/** How long repeats of one database pool error are counted rather than printed. */
const POOL_ERROR_QUIET_MS = 5000;

/**
 * The demo payments API that ships with idemproof: a correct idempotent implementation by
 * default, or one realistic flaw at a time (see `flaws.ts`).
 *
 * Must not: listen anywhere but the given host (loopback by default).
 */
export async function startDemoTarget(options: DemoTargetOptions): Promise<DemoTarget> {
  const settings: GuardSettings = {
    flaw: options.flaw ?? 'none',
    keyTtlMs: options.keyTtlMs ?? 24 * 60 * 60 * 1000,
    lockTimeoutMs: options.lockTimeoutMs ?? 30_000,
    processingMs: options.processingMs ?? 0,
  };
  const log = options.log ?? (() => undefined);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 20 });
  let shuttingDown = false;
  // A store outage breaks every idle connection at once: one line per message and 5 s.
  const poolErrors = new Map<string, { at: number; more: number }>();
  pool.on('error', (error) => {
    // Once closing, idle connections that PostgreSQL terminates are expected, not news.
    if (shuttingDown) return;
    const seen = poolErrors.get(error.message);
    const now = Date.now();
    if (seen !== undefined && now - seen.at < POOL_ERROR_QUIET_MS) {
      seen.more += 1;
      return;
    }
    const more = seen === undefined || seen.more === 0 ? '' : ` (and ${seen.more} more before)`;
    poolErrors.set(error.message, { at: now, more: 0 });
    log(`database pool error: ${error.message}${more}`);
  });
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new IdemproofError(
      'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
      `demo target could not prepare its tables: ${describeError(error)}`,
      { cause: error },
    );
  }

  const context: RequestContext = {
    pool,
    settings,
    log,
    arrivals: options.recordArrivals === true ? new Map() : undefined,
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    void handle(context, request, response);
  };
  const { tls } = options;
  const server: Server =
    tls === undefined
      ? createServer(onRequest)
      : createHttpsServer(
          {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            requestCert: tls.requireClientCertificate === true,
            rejectUnauthorized: tls.requireClientCertificate === true,
          },
          onRequest,
        );
  server.keepAliveTimeout = 5000;
  await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  const { port, address } = server.address() as AddressInfo;
  const host =
    tls !== undefined
      ? (tls.hostName ?? 'localhost')
      : address.includes(':')
        ? `[${address}]`
        : address;

  let closing: Promise<void> | undefined;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${host}:${port}`,
    port,
    flaw: settings.flaw,
    pool,
    close: () => {
      closing ??= (async () => {
        shuttingDown = true;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await pool.end();
      })();
      return closing;
    },
  };
}

/**
 * Creates the demo's tables once, for a primary process whose workers (node:cluster, see
 * target-main.ts) then start on the same database.
 */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function handle(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (context.arrivals !== undefined) recordArrival(context.arrivals, request);
  let clientGone = false;
  response.on('close', () => {
    if (!response.writableFinished) clientGone = true;
  });
  try {
    const url = new URL(request.url ?? '/', 'http://demo.invalid');
    const routed = await route(context, request, url, {
      clientGone: () => clientGone,
      processingMs: providerDelayOf(request, context.settings.processingMs),
      providerFails: request.headers['demo-provider-fail'] === 'true',
      clientStatus: headerOf(request, 'x-idempotency-status'),
    });
    if (routed.replayed) {
      send(response, routed.response, { 'idempotent-replayed': 'true' });
    } else {
      send(response, routed.response);
    }
  } catch (error) {
    if (error instanceof HttpProblem) {
      send(response, problemResponse(error));
      return;
    }
    context.log(
      `unexpected error on ${request.method ?? '?'} ${request.url ?? '?'}: ${describeError(error)}`,
    );
    send(
      response,
      problemResponse(
        new HttpProblem(500, 'Internal error', 'the demo target failed; see its log'),
      ),
    );
  }
}

/** What the guard needs to know about the request in hand. */
interface RequestSignals {
  readonly clientGone: () => boolean;
  readonly processingMs: number;
  /** `Demo-Provider-Fail: true`: this request's simulated provider call fails with a 500. */
  readonly providerFails: boolean;
  /** The client's X-Idempotency-Status header (only the trusted-client-header flaw reads it). */
  readonly clientStatus: string | undefined;
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `Demo-Provider-Delay-Ms: N` (0 to 10000) makes this one request's simulated provider call
 * take N ms: scenarios use it to make the demo slow where a pattern needs a slow target.
 */
function providerDelayOf(request: IncomingMessage, fallback: number): number {
  const header = request.headers['demo-provider-delay-ms'];
  if (typeof header !== 'string') return fallback;
  const value = Number(header);
  if (!Number.isInteger(value) || value < 0 || value > 10_000) {
    throw new HttpProblem(
      400,
      'Invalid Demo-Provider-Delay-Ms',
      'expected a whole number of milliseconds from 0 to 10000',
    );
  }
  return value;
}

interface Routed {
  readonly response: StoredResponse;
  readonly replayed: boolean;
}

const fresh = (response: StoredResponse): Routed => ({ response, replayed: false });

async function route(
  context: RequestContext,
  request: IncomingMessage,
  url: URL,
  signals: RequestSignals,
): Promise<Routed> {
  const method = request.method ?? 'GET';
  const { pathname } = url;
  const segments = pathname.split('/').filter((segment) => segment !== '');
  const { pool } = context;

  if (pathname === '/health' && method === 'GET') return fresh(jsonResponse(200, { ok: true }));
  if (pathname === '/idempotency-policy' && method === 'GET')
    return fresh(policy(context.settings));
  if (pathname === '/arrivals' && method === 'GET' && context.arrivals !== undefined) {
    return fresh(arrivalsResponse(context.arrivals, request, url));
  }

  if (segments[0] === CONFORMANCE_PREFIX.slice(1))
    return conformanceRoute({ pool, settings: context.settings, ...signals }, request, url);

  if (segments[0] === CHARGES_PREFIX.slice(1)) {
    const charged = await chargesRoute(
      { pool, settings: context.settings, ...signals },
      request,
      url,
    );
    if (charged !== undefined) return charged;
  }

  if (segments[0] === 'payments' && segments.length === 1) {
    if (method === 'POST') {
      const tenant = tenantOf(request);
      const key = requireKey(request, context.settings);
      const body = await readBody(context, request);
      const payment = parsePaymentRequest(body);
      return keyed(
        context,
        { tenant, key, method, path: pathname, body: payment },
        signals,
        createPayment(tenant, key, payment, context.settings.flaw),
      );
    }
    if (method === 'GET') {
      const key = url.searchParams.get('idempotency_key');
      const customer = url.searchParams.get('customer');
      if (key === null && customer === null) {
        throw new HttpProblem(
          400,
          'Missing query parameter',
          'GET /payments needs ?idempotency_key=K or ?customer=C',
        );
      }
      const filter = key !== null ? { key } : { customer: customer ?? '' };
      return fresh(await listPayments(pool, tenantOf(request), filter));
    }
  }
  if (segments[0] === 'payments' && segments.length === 2 && method === 'GET') {
    return fresh(await getPayment(pool, tenantOf(request), segments[1] ?? ''));
  }

  if (segments[0] === 'orders' && segments.length >= 2) {
    const id = parseOrderId(decodeURIComponent(segments[1] ?? ''));
    if (segments.length === 2 && method === 'PATCH') {
      const tenant = tenantOf(request);
      const key = requireKey(request, context.settings);
      const change = parseOrderChange(await readBody(context, request));
      return keyed(
        context,
        { tenant, key, method, path: pathname, body: change },
        signals,
        changeOrder(tenant, id, key, change.status),
      );
    }
    if (segments.length === 2 && method === 'GET')
      return fresh(await getOrder(pool, tenantOf(request), id));
    if (segments.length === 3 && segments[2] === 'events' && method === 'GET') {
      const key = url.searchParams.get('idempotency_key') ?? undefined;
      return fresh(await listOrderEvents(pool, tenantOf(request), id, key));
    }
  }
  throw new HttpProblem(404, 'Not found', `no route for ${method} ${pathname}`);
}

/** Without idempotency the key is optional and ignored; otherwise a missing key is a 400. */
function requireKey(request: IncomingMessage, settings: GuardSettings): string | undefined {
  const key = idempotencyKeyOf(request);
  if (key === undefined && settings.flaw !== 'no-idempotency') {
    throw new HttpProblem(
      400,
      'Missing Idempotency-Key',
      'this endpoint requires an Idempotency-Key header',
    );
  }
  return key;
}

function keyed(
  context: RequestContext,
  request: { tenant: string; key: string | undefined; method: string; path: string; body: unknown },
  signals: RequestSignals,
  operation: Operation,
): Promise<Routed> {
  const guard = { pool: context.pool, settings: context.settings, ...signals };
  // The key is only ever absent with the no-idempotency flaw, which ignores it.
  return runIdempotent(guard, { ...request, key: request.key ?? '' }, operation);
}

/** What the API declares about its idempotency, so delayed retries can aim at its windows. */
function policy(settings: GuardSettings): StoredResponse {
  return jsonResponse(200, {
    header: 'Idempotency-Key',
    max_key_length: MAX_KEY_LENGTH,
    scope: 'tenant (Authorization: Bearer <tenant>)',
    retention_seconds: settings.keyTtlMs / 1000,
    in_progress_timeout_seconds: settings.lockTimeoutMs / 1000,
    missing_key_status: 400,
    mismatch_status: 409,
    in_flight_status: 409,
    replay_header: 'Idempotent-Replayed',
  });
}
