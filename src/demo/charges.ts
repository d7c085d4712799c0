import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import {
  HttpProblem,
  idempotencyKeyOf,
  readRawBody,
  tenantOf,
  type StoredResponse,
} from './http-io.js';
import {
  REFUSAL_TITLES,
  runIdempotent,
  type GuardContext,
  type Operation,
  type Outcome,
} from './idempotency.js';

/**
 * A Stripe-style API under /v1, behind the demo's idempotency layer: `POST /v1/charges` takes
 * an `application/x-www-form-urlencoded` body with Stripe's nested brackets
 * (`metadata[order_id]=6735`), the `Idempotency-Key` is optional (a request without one is
 * processed), replays carry `Idempotent-Replayed: true`, a key reused with another request is
 * refused with 400 and a duplicate in flight with 409 (code `idempotency_key_in_use`), as
 * `{error: {type, code, message}}`.
 * `/v1/echo/…` takes any method and any body and fingerprints all of it (method, path, query,
 * significant headers, body bytes): the endpoint mismatch tests of every encoding aim at.
 * `GET /v1/charges?idempotency_key=K` (or `?marker=M`) lists effects for probes; a key on it
 * (a safe method) is ignored.
 *
 * Must not: store a response for a request refused before it ran (bad parameters, bad key).
 */

export const CHARGES_PREFIX = '/v1';

/** Headers that never count in an echo's fingerprint: transport, the key, credentials. */
const UNFINGERPRINTED = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'user-agent',
  'accept-encoding',
  'idempotency-key',
  'authorization',
  'demo-provider-delay-ms',
]);

interface ChargeRow {
  id: string;
  kind: string;
  amount: string | null;
  currency: string | null;
  params: Record<string, unknown>;
  created_at: Date;
}

function stripeError(status: number, type: string, message: string, code?: string): StoredResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { type, ...(code === undefined ? {} : { code }), message } }),
  };
}

/**
 * A form body as Stripe reads it: `a[b][c]=1` nests, `a[0]=x&a[1]=y` makes a list, a repeated
 * name keeps its last value.
 */
export function parseStripeForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const head = /^[^[]+/.exec(name)?.[0] ?? name;
    const path = [
      head,
      ...[...name.slice(head.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? ''),
    ];
    // A name that would reach Object.prototype is not a parameter.
    if (path.some((part) => part === '__proto__' || part === 'constructor' || part === 'prototype'))
      continue;
    let node = root;
    path.forEach((part, index) => {
      if (index === path.length - 1) node[part] = value;
      else {
        const next = node[part];
        node[part] = next !== null && typeof next === 'object' ? next : {};
        node = node[part] as Record<string, unknown>;
      }
    });
  }
  return listsOf(root) as Record<string, unknown>;
}

/** Objects whose keys are 0, 1, … n-1 become lists. */
function listsOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([key, inner]) => [key, listsOf(inner)] as const,
  );
  const indexed = entries.length > 0 && entries.every(([key], index) => key === String(index));
  return indexed ? entries.map(([, inner]) => inner) : Object.fromEntries(entries);
}

/** Canonical text of a value: object keys sorted. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sortedQuery(url: URL): [string, string][] {
  return [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

interface Charge {
  readonly amount: number;
  readonly currency: string;
  readonly params: Record<string, unknown>;
  readonly marker: string | null;
}

function parseCharge(params: Record<string, unknown>): Charge {
  const { amount, currency, metadata } = params;
  const problems: string[] = [];
  if (typeof amount !== 'string' || !/^[1-9]\d{0,12}$/.test(amount))
    problems.push('amount must be a positive integer in the smallest currency unit');
  if (typeof currency !== 'string' || !/^[a-zA-Z]{3}$/.test(currency))
    problems.push('currency must be a three-letter ISO code such as usd');
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object'))
    problems.push('metadata must be a set of key-value pairs: metadata[name]=value');
  if (problems.length > 0)
    throw new RequestRefused(stripeError(400, 'invalid_request_error', problems.join('; ')));
  const marker = (metadata as Record<string, unknown> | undefined)?.marker;
  return {
    amount: Number(amount),
    currency: (currency as string).toLowerCase(),
    params,
    marker: typeof marker === 'string' ? marker : null,
  };
}

/** A refusal answered as is, never stored under the key. */
class RequestRefused extends Error {
  constructor(readonly response: StoredResponse) {
    super(`${response.status}`);
  }
}

function chargeJson(row: ChargeRow): Record<string, unknown> {
  return {
    id: row.id,
    object: row.kind,
    ...(row.amount === null ? {} : { amount: Number(row.amount) }),
    ...(row.currency === null ? {} : { currency: row.currency }),
    ...row.params,
    created: Math.floor(row.created_at.getTime() / 1000),
  };
}

/** Inserts one effect row (a charge or an echo) and answers it. */
function createEffect(
  tenant: string,
  key: string | undefined,
  effect: {
    kind: 'charge' | 'echo';
    amount: number | null;
    currency: string | null;
    marker: string | null;
    params: Record<string, unknown>;
  },
): Operation {
  const id = `${effect.kind === 'charge' ? 'ch' : 'ev'}_${randomBytes(12).toString('hex')}`;
  const select = `SELECT id, kind, amount, currency, params, created_at FROM charges`;
  return {
    async execute(db: pg.PoolClient): Promise<StoredResponse> {
      const inserted = await db.query<ChargeRow>(
        `INSERT INTO charges (id, tenant, idempotency_key, marker, kind, amount, currency, params)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id, kind, amount, currency, params, created_at`,
        [
          id,
          tenant,
          key ?? null,
          effect.marker,
          effect.kind,
          effect.amount,
          effect.currency,
          JSON.stringify(effect.params),
        ],
      );
      const row = inserted.rows[0] as ChargeRow;
      return {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'request-id': `req_${randomBytes(8).toString('hex')}`,
        },
        body: JSON.stringify(chargeJson(row)),
      };
    },
    async regenerate(db: pg.Pool): Promise<StoredResponse | undefined> {
      const found = await db.query<ChargeRow>(
        `${select} WHERE tenant = $1 AND idempotency_key = $2 ORDER BY created_at LIMIT 1`,
        [tenant, key],
      );
      const row = found.rows[0];
      if (row === undefined) return undefined;
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: row.id, object: row.kind }),
      };
    },
  };
}

/** `GET /v1/charges?idempotency_key=K` or `?marker=M`: the effects, for probes. */
async function listEffects(pool: pg.Pool, tenant: string, url: URL): Promise<StoredResponse> {
  const key = url.searchParams.get('idempotency_key');
  const marker = url.searchParams.get('marker');
  if (key === null && marker === null)
    return stripeError(
      400,
      'invalid_request_error',
      'list charges by ?idempotency_key=K or ?marker=M',
    );
  const [column, value] = key !== null ? ['idempotency_key', key] : ['marker', marker];
  const found = await pool.query<ChargeRow>(
    `SELECT id, kind, amount, currency, params, created_at FROM charges
      WHERE tenant = $1 AND ${column} = $2 ORDER BY created_at, id`,
    [tenant, value],
  );
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      object: 'list',
      data: found.rows.map(chargeJson),
      count: found.rows.length,
    }),
  };
}

/** Everything an echo's fingerprint covers, besides method and path (the layer adds those). */
function echoRequest(request: IncomingMessage, url: URL, body: Buffer): Record<string, unknown> {
  const headers: [string, string][] = [];
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = (request.rawHeaders[index] ?? '').toLowerCase();
    if (!UNFINGERPRINTED.has(name)) headers.push([name, request.rawHeaders[index + 1] ?? '']);
  }
  headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    query: sortedQuery(url),
    headers,
    body_bytes: body.length,
    body_sha256: createHash('sha256').update(body).digest('hex'),
  };
}

/** The /v1 routes; undefined when none matches. */
export async function chargesRoute(
  guard: GuardContext,
  request: IncomingMessage,
  url: URL,
): Promise<Outcome | undefined> {
  const method = request.method ?? 'GET';
  const { pathname } = url;
  const fresh = (response: StoredResponse): Outcome => ({ response, replayed: false });
  const safe = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  const isCharges = pathname === `${CHARGES_PREFIX}/charges`;
  const isEcho = pathname.startsWith(`${CHARGES_PREFIX}/echo/`);
  if (!isCharges && !isEcho) return undefined;
  if (method === 'OPTIONS')
    return fresh({
      status: 204,
      headers: {
        allow: isCharges
          ? 'GET, HEAD, POST, OPTIONS'
          : 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      },
      body: '',
    });
  const tenant = tenantOf(request);
  if (isCharges && safe) return fresh(await listEffects(guard.pool, tenant, url));
  if (isCharges && method !== 'POST')
    return fresh(
      stripeError(405, 'invalid_request_error', `${method} is not allowed on ${pathname}`),
    );
  const key = idempotencyKeyOf(request);
  const body = await readRawBody(request);
  try {
    let fingerprinted: Record<string, unknown>;
    let operation: Operation;
    if (isCharges) {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded')
        return fresh(
          stripeError(
            400,
            'invalid_request_error',
            'send parameters as application/x-www-form-urlencoded',
          ),
        );
      const charge = parseCharge(parseStripeForm(body.toString('utf8')));
      fingerprinted = {
        query: sortedQuery(url),
        params: JSON.parse(canonical(charge.params)) as unknown,
      };
      operation = createEffect(tenant, key, {
        kind: 'charge',
        amount: charge.amount,
        currency: charge.currency,
        marker: charge.marker,
        params: charge.params,
      });
    } else {
      fingerprinted = echoRequest(request, url, body);
      if (safe)
        return fresh({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ object: 'echo', method, ...fingerprinted }),
        });
      operation = createEffect(tenant, key, {
        kind: 'echo',
        amount: null,
        currency: null,
        marker: url.searchParams.get('marker'),
        params: { method, path: pathname, ...fingerprinted },
      });
    }
    // Without a key the request is simply processed, as Stripe does.
    const layer =
      key === undefined
        ? { ...guard, settings: { ...guard.settings, flaw: 'no-idempotency' as const } }
        : guard;
    return await runIdempotent(
      layer,
      { tenant, key: key ?? '', method, path: pathname, body: fingerprinted },
      operation,
    );
  } catch (error) {
    if (error instanceof RequestRefused) return fresh(error.response);
    if (error instanceof HttpProblem && error.title === REFUSAL_TITLES.mismatch)
      return fresh(
        stripeError(
          400,
          'idempotency_error',
          'Keys for idempotent requests can only be used with the same parameters they were first used with.',
        ),
      );
    if (error instanceof HttpProblem && error.title === REFUSAL_TITLES.inFlight)
      return fresh({
        ...stripeError(
          409,
          'idempotency_error',
          'There is currently another in-progress request using this Idempotent Key.',
          'idempotency_key_in_use',
        ),
        headers: { 'content-type': 'application/json', ...error.headers },
      });
    throw error;
  }
}
