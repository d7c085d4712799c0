import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Flaw } from './flaws.js';
import { HttpProblem, jsonResponse, type StoredResponse } from './http-io.js';

/**
 * The demo target's idempotency layer. The correct path (flaw `none`) is the design from the
 * reference notes (Brandur, Stripe): an atomic reservation of (tenant, key) committed before
 * any work, the effect and the stored response committed together in one transaction guarded
 * by the reservation's lock token, the key released if the work throws, replays of the stored
 * bytes with `Idempotent-Replayed: true`, 409 for a different request under a used key and for
 * a duplicate while the first is in flight. Each flaw changes exactly one of those decisions.
 */

export interface GuardSettings {
  readonly flaw: Flaw;
  /** How long a completed key is kept and replayed. */
  readonly keyTtlMs: number;
  /** After this long an in-progress reservation counts as abandoned and may be taken over. */
  readonly lockTimeoutMs: number;
  /** Simulated time spent calling the payment provider, before the effect is written. */
  readonly processingMs: number;
}

export interface KeyedRequest {
  readonly tenant: string;
  readonly key: string;
  readonly method: string;
  readonly path: string;
  /** The request body in canonical form; the fingerprint is computed from it. */
  readonly body: unknown;
}

export interface Operation {
  /** Writes the effect inside `db`'s open transaction and returns the response to store. */
  execute(db: pg.PoolClient): Promise<StoredResponse>;
  /** How a careless replay path rebuilds the response from the effect (regenerated-replay). */
  regenerate(db: pg.Pool): Promise<StoredResponse | undefined>;
  /** Side effects outside the database (a webhook), run once the effect is committed. */
  afterCommit?(): void;
}

export interface Outcome {
  readonly response: StoredResponse;
  readonly replayed: boolean;
}

export interface GuardContext {
  readonly pool: pg.Pool;
  readonly settings: GuardSettings;
  /** True once the client has gone away before its response was written. */
  readonly clientGone: () => boolean;
  /** This request's simulated provider time (the setting, or the request's own). */
  readonly processingMs: number;
  /** The simulated provider call fails with a 500 (`Demo-Provider-Fail: true`). */
  readonly providerFails?: boolean;
  /** The client's own X-Idempotency-Status header, which only `trusted-client-header` reads. */
  readonly clientStatus?: string | undefined;
}

interface KeyRow {
  fingerprint: string;
  state: 'in_progress' | 'completed';
  lock_token: string;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
}

/** Canonical JSON: object keys sorted, so field order in the request does not matter. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function fingerprintOf(request: KeyedRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.path}\n${canonicalJson(request.body)}`)
    .digest('hex');
}

const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

function effectiveTtlMs(settings: GuardSettings): number {
  return settings.flaw === 'ttl-units' ? settings.keyTtlMs / 1000 : settings.keyTtlMs;
}

function scopeOf(request: KeyedRequest, settings: GuardSettings): string {
  return settings.flaw === 'unscoped-keys' ? '*' : request.tenant;
}

/** The titles of the two refusals, for routes that answer them in their own format. */
export const REFUSAL_TITLES = {
  inFlight: 'Request in progress',
  mismatch: 'Idempotency-Key reused',
} as const;

const inFlight = (flaw: Flaw): HttpProblem =>
  new HttpProblem(
    409,
    REFUSAL_TITLES.inFlight,
    'a request with this Idempotency-Key is still being processed; retry later with the same key',
    flaw === 'missing-retry-after' ? {} : { 'retry-after': '1' },
  );

const mismatch = (): HttpProblem =>
  new HttpProblem(
    409,
    REFUSAL_TITLES.mismatch,
    'this Idempotency-Key was first used with a different request; use a new key for a new request',
  );

/** Runs `operation` at most once per (tenant, key), or says why not. */
export async function runIdempotent(
  context: GuardContext,
  request: KeyedRequest,
  operation: Operation,
): Promise<Outcome> {
  switch (context.settings.flaw) {
    case 'no-idempotency':
      return { response: await executeInTransaction(context, operation), replayed: false };
    case 'check-then-insert':
      return checkThenInsert(context, request, operation);
    case 'cache-only-dedupe':
      return cacheOnlyDedupe(context, request, operation);
    default:
      return guardStoreOutage(context, request, operation, (guarded) =>
        reserveThenExecute(guarded, request, operation),
      );
  }
}

async function executeInTransaction(
  context: GuardContext,
  operation: Operation,
  finish?: (db: pg.PoolClient, response: StoredResponse) => Promise<boolean>,
): Promise<StoredResponse> {
  await sleep(context.processingMs);
  if (context.providerFails === true) throw providerFailed();
  const db = await context.pool.connect();
  // A connection the database drops mid-transaction fails the pending query; the 'error' it
  // also emits would end the process without a listener while the client is checked out.
  const dropped = (): void => undefined;
  db.on('error', dropped);
  try {
    await db.query('BEGIN');
    const response = await operation.execute(db);
    if (finish !== undefined && !(await finish(db, response))) {
      await db.query('ROLLBACK');
      throw inFlight(context.settings.flaw);
    }
    await db.query('COMMIT');
    operation.afterCommit?.();
    return response;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    db.off('error', dropped);
    db.release();
  }
}

async function reserveThenExecute(
  context: GuardContext,
  request: KeyedRequest,
  operation: Operation,
): Promise<Outcome> {
  const { pool, settings } = context;
  const scope = scopeOf(request, settings);
  const fingerprint = fingerprintOf(request);
  const token = randomUUID();

  for (let attempt = 0; attempt < 3; attempt += 1) {
    const reserved = await pool
      .query<{ lock_token: string }>(
        `INSERT INTO idempotency_keys
         (tenant, key, method, path, fingerprint, state, lock_token, locked_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'in_progress', $6, clock_timestamp(),
               clock_timestamp() + make_interval(secs => $7 / 1000.0))
       ON CONFLICT (tenant, key) DO UPDATE SET
         method = EXCLUDED.method, path = EXCLUDED.path, fingerprint = EXCLUDED.fingerprint,
         state = 'in_progress', lock_token = EXCLUDED.lock_token, locked_at = EXCLUDED.locked_at,
         expires_at = EXCLUDED.expires_at,
         response_status = NULL, response_headers = NULL, response_body = NULL
       WHERE idempotency_keys.expires_at < clock_timestamp()
          OR (idempotency_keys.state = 'in_progress'
              AND idempotency_keys.locked_at < clock_timestamp() - make_interval(secs => $8 / 1000.0))
       RETURNING lock_token`,
        [
          scope,
          request.key,
          request.method,
          request.path,
          fingerprint,
          token,
          effectiveTtlMs(settings),
          NAIVE_STORES.includes(settings.flaw) ? NEVER_MS : settings.lockTimeoutMs,
        ],
      )
      .catch((error: unknown) => {
        // The reservation may be written though its answer was lost (a hanging store).
        if (isConnectionError(error)) releaseWhenStoreIsBack(context, scope, request.key, token);
        throw error;
      });
    if (reserved.rows[0]?.lock_token === token) {
      if (settings.flaw === 'trusted-client-header' && context.clientStatus === 'processing')
        await waitForAnotherWorker(context);
      return {
        response: await executeReserved(context, scope, request.key, token, operation),
        replayed: false,
      };
    }

    const existing = await pool.query<KeyRow>(
      'SELECT * FROM idempotency_keys WHERE tenant = $1 AND key = $2',
      [scope, request.key],
    );
    const row = existing.rows[0];
    if (row === undefined) continue; // released between our two statements: try again
    if (row.fingerprint !== fingerprint && settings.flaw !== 'no-payload-check') throw mismatch();
    if (row.state === 'in_progress') throw inFlight(settings.flaw);
    if (settings.flaw === 'regenerated-replay') {
      const regenerated = await operation.regenerate(pool);
      if (regenerated !== undefined) return { response: regenerated, replayed: true };
    }
    return { response: storedResponseOf(row), replayed: true };
  }
  throw inFlight(settings.flaw);
}

const providerFailed = (): HttpProblem =>
  new HttpProblem(
    500,
    'Payment provider failed',
    'the payment provider failed (Demo-Provider-Fail); nothing was charged, retry with the same key',
  );

/** The flaws whose naive store never takes over an abandoned reservation. */
const NAIVE_STORES: readonly Flaw[] = [
  'stuck-after-abort',
  '500-then-409',
  'trusted-client-header',
  'crash-stuck',
];
/** Ten years: a reservation that is never taken over. */
const NEVER_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/** A request whose work was dropped with its key still reserved (stuck-after-abort). */
class KeyAbandoned extends HttpProblem {
  constructor() {
    super(499, 'Client closed request', 'the client went away; the work was dropped');
  }
}

/**
 * trusted-client-header: the layer believes the client's header that another worker has the
 * key, and waits for that worker's result, which never comes, until the client gives up
 * (at most a minute, so the demo never holds a request forever).
 */
async function waitForAnotherWorker(context: GuardContext): Promise<never> {
  const until = Date.now() + 60_000;
  while (!context.clientGone() && Date.now() < until) await sleep(50);
  throw new KeyAbandoned();
}

/** Frees a reservation, only if it is still ours. */
const RELEASE_RESERVATION =
  "DELETE FROM idempotency_keys WHERE tenant = $1 AND key = $2 AND lock_token = $3 AND state = 'in_progress'";

async function executeReserved(
  context: GuardContext,
  scope: string,
  key: string,
  token: string,
  operation: Operation,
): Promise<StoredResponse> {
  const { pool, settings } = context;
  const release = (): Promise<unknown> => pool.query(RELEASE_RESERVATION, [scope, key, token]);
  try {
    return await executeInTransaction(context, operation, async (db, response) => {
      if (settings.flaw === 'stuck-after-abort' && context.clientGone()) throw new KeyAbandoned();
      if (settings.flaw === 'release-on-disconnect' && context.clientGone()) {
        // The mistake: the client is gone, so the key is freed for its retry, but the
        // payment provider has already been called and the effect is committed below.
        await db.query(RELEASE_RESERVATION, [scope, key, token]);
        return true;
      }
      const completed = await db.query(
        `UPDATE idempotency_keys
            SET state = 'completed', response_status = $4, response_headers = $5, response_body = $6
          WHERE tenant = $1 AND key = $2 AND lock_token = $3`,
        [scope, key, token, response.status, JSON.stringify(response.headers), response.body],
      );
      return completed.rowCount === 1;
    });
  } catch (error) {
    // The mistakes: an abandoned request, or any failure of a naive store, keeps the key.
    const keep = error instanceof KeyAbandoned || settings.flaw === '500-then-409';
    if (!keep)
      await release().catch((cause: unknown) => {
        if (isConnectionError(cause)) releaseWhenStoreIsBack(context, scope, key, token);
      });
    throw error;
  }
}

function storedResponseOf(row: KeyRow): StoredResponse {
  return {
    status: row.response_status ?? 500,
    headers: row.response_headers ?? {},
    body: row.response_body ?? '',
  };
}

/**
 * The flawed check-then-insert: look the key up, do the work, then record the key. Between
 * the lookup and the insert, any number of concurrent duplicates pass the check.
 */
async function checkThenInsert(
  context: GuardContext,
  request: KeyedRequest,
  operation: Operation,
): Promise<Outcome> {
  const { pool, settings } = context;
  const fingerprint = fingerprintOf(request);
  const existing = await pool.query<KeyRow>(
    `SELECT * FROM idempotency_keys
      WHERE tenant = $1 AND key = $2 AND state = 'completed' AND expires_at > clock_timestamp()`,
    [request.tenant, request.key],
  );
  const row = existing.rows[0];
  if (row !== undefined) {
    if (row.fingerprint !== fingerprint) throw mismatch();
    return { response: storedResponseOf(row), replayed: true };
  }
  const response = await executeInTransaction(context, operation);
  await pool.query(
    `INSERT INTO idempotency_keys
       (tenant, key, method, path, fingerprint, state, lock_token, locked_at, expires_at,
        response_status, response_headers, response_body)
     VALUES ($1, $2, $3, $4, $5, 'completed', $6, clock_timestamp(),
             clock_timestamp() + make_interval(secs => $7 / 1000.0), $8, $9, $10)
     ON CONFLICT (tenant, key) DO NOTHING`,
    [
      request.tenant,
      request.key,
      request.method,
      request.path,
      fingerprint,
      randomUUID(),
      settings.keyTtlMs,
      response.status,
      JSON.stringify(response.headers),
      response.body,
    ],
  );
  return { response, replayed: false };
}

/** The most keys the in-memory dedupe record keeps per target (oldest forgotten first). */
const MEMORY_KEYS = 100_000;
interface MemoryRecord {
  fingerprint: string;
  response: StoredResponse | undefined;
  expires: number;
}
/** cache-only-dedupe: the dedupe records of each target, in its process's memory only. */
const memoryRecords = new WeakMap<GuardSettings, Map<string, MemoryRecord>>();

/**
 * cache-only-dedupe: the check and the reservation are one synchronous step in this process's
 * memory (correct while it lives), but nothing is written to the database: a restarted
 * process has forgotten every key and runs a retry or a replay again.
 */
async function cacheOnlyDedupe(
  context: GuardContext,
  request: KeyedRequest,
  operation: Operation,
): Promise<Outcome> {
  const { settings } = context;
  let records = memoryRecords.get(settings);
  if (records === undefined) {
    records = new Map<string, MemoryRecord>();
    memoryRecords.set(settings, records);
  }
  const scope = `${request.tenant}\n${request.key}`;
  const fingerprint = fingerprintOf(request);
  const existing = records.get(scope);
  if (existing !== undefined && existing.expires > Date.now()) {
    if (existing.fingerprint !== fingerprint) throw mismatch();
    if (existing.response === undefined) throw inFlight(settings.flaw);
    return { response: existing.response, replayed: true };
  }
  if (records.size >= MEMORY_KEYS) records.delete(records.keys().next().value ?? '');
  const expires = Date.now() + settings.keyTtlMs;
  records.set(scope, { fingerprint, response: undefined, expires });
  try {
    const response = await executeInTransaction(context, operation);
    records.set(scope, { fingerprint, response, expires });
    return { response, replayed: false };
  } catch (error) {
    records.delete(scope);
    throw error;
  }
}

/**
 * Frees a reservation the store could not be told about when the work failed (it was down,
 * reset or hanging): tried again every 200 ms in the background until the store answers, for
 * at most the lock timeout (after which the reservation may be taken over anyway). Without it
 * a key would answer 409 in progress long after the outage.
 */
function releaseWhenStoreIsBack(
  context: GuardContext,
  scope: string,
  key: string,
  token: string,
): void {
  const until = Date.now() + context.settings.lockTimeoutMs;
  const attempt = (): void => {
    if (Date.now() > until) return;
    context.pool.query(RELEASE_RESERVATION, [scope, key, token]).then(
      () => undefined,
      (error: unknown) => {
        if (isConnectionError(error)) setTimeout(attempt, 200).unref();
      },
    );
  };
  setTimeout(attempt, 200).unref();
}

/** How long one key store query may take before the request is refused with 503. */
const STORE_DEADLINE_MS = 2000;

/** The key store could not be asked: the database is down, resets or hangs. */
class StoreUnavailable extends Error {}

/** Errors that mean the database could not be reached or the connection broke. */
function isConnectionError(error: unknown): boolean {
  if (error instanceof StoreUnavailable) return true;
  if (!(error instanceof Error) || error instanceof HttpProblem) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', '57P01'].includes(code)
  )
    return true;
  return /Connection terminated|connection error|not queryable|timeout|ECONNRESET|ECONNREFUSED/i.test(
    error.message,
  );
}

const storeUnavailable = (): HttpProblem =>
  new HttpProblem(
    503,
    'Idempotency store unavailable',
    'the store that records Idempotency-Keys cannot be reached; nothing was done, retry later with the same key',
    { 'retry-after': '1' },
  );

/**
 * The key store behind a deadline: every `pool.query` (the key store's lookups and
 * reservations) fails as StoreUnavailable after STORE_DEADLINE_MS or on a broken connection.
 * The correct path answers 503 with Retry-After and does no work. With `fail-open`, a key store
 * that cannot be asked does not stop the payment: it is processed anyway (see processAnyway).
 */
async function guardStoreOutage(
  context: GuardContext,
  request: KeyedRequest,
  operation: Operation,
  guarded: (context: GuardContext) => Promise<Outcome>,
): Promise<Outcome> {
  const { pool } = context;
  const query = (...args: unknown[]): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailable(`no answer in ${STORE_DEADLINE_MS} ms`)),
        STORE_DEADLINE_MS,
      );
    });
    const asked = (pool.query as (...inner: unknown[]) => Promise<unknown>)
      .apply(pool, args)
      .catch((error: unknown) => {
        throw isConnectionError(error) ? new StoreUnavailable(String(error)) : error;
      });
    return Promise.race([asked, deadline]).finally(() => clearTimeout(timer));
  };
  const deadlined = new Proxy(pool, {
    get: (target, name, receiver) =>
      name === 'query' ? query : (Reflect.get(target, name, receiver) as unknown),
  });
  try {
    return await guarded({ ...context, pool: deadlined });
  } catch (error) {
    if (error instanceof StoreUnavailable && context.settings.flaw === 'fail-open')
      return processAnyway(context, request, operation);
    if (isConnectionError(error)) throw storeUnavailable();
    throw error;
  }
}

/**
 * fail-open: the key store errored, so the payment goes ahead without a key record. The
 * provider is called (the simulated delay) and the webhook notified: that call is the effect
 * the sink counts, and the one a database outage cannot hide. The payment row is written too
 * when the database takes it (a `reset` or `cut` may let it through; `down` does not), and
 * the answer is 201 built from the request itself.
 */
async function processAnyway(
  context: GuardContext,
  request: KeyedRequest,
  operation: Operation,
): Promise<Outcome> {
  try {
    const response = await Promise.race([
      executeInTransaction(context, operation),
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => reject(new StoreUnavailable('no answer')), STORE_DEADLINE_MS).unref(),
      ),
    ]);
    return { response, replayed: false };
  } catch {
    operation.afterCommit?.();
    const body = request.body !== null && typeof request.body === 'object' ? request.body : {};
    return {
      response: jsonResponse(201, { ...body, status: 'succeeded', id: `pay_${randomUUID()}` }),
      replayed: false,
    };
  }
}
