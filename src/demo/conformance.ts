import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import {
  HttpProblem,
  idempotencyKeyOf,
  jsonResponse,
  tenantOf,
  type StoredResponse,
} from './http-io.js';
import { runIdempotent, type GuardContext, type Outcome } from './idempotency.js';

/**
 * The conformance fixture, under /conformance: the routes the public anyonce vectors drive
 * (`POST /echo`, `/status/{code}`, `/slow?ms=N`, `/large?bytes=N`, `GET /counter`,
 * `POST /reset`) and the order endpoint `/api` of the idempot.dev Gherkin cases, behind the
 * demo's own idempotency layer. Every handler run adds one to a counter per demo target that
 * `GET /counter` reads, so scenarios count handler invocations as effects.
 *
 * Must not: keep a counter shared between demo targets, or let /reset go through the layer
 * (it is the only control route).
 */

export const CONFORMANCE_PREFIX = '/conformance';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_LARGE_BYTES = 8 * 1024 * 1024;
const MAX_SLOW_MS = 10_000;

/** One counter per demo target, found by the target's database pool. */
const counters = new WeakMap<pg.Pool, { count: number }>();

function counterOf(pool: pg.Pool): { count: number } {
  let counter = counters.get(pool);
  if (counter === undefined) {
    counter = { count: 0 };
    counters.set(pool, counter);
  }
  return counter;
}

async function rawBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpProblem(413, 'Request body too large', `the limit is ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function numberParam(url: URL, name: string, max: number): number {
  const value = Number(url.searchParams.get(name) ?? '0');
  return Number.isInteger(value) && value > 0 ? Math.min(value, max) : 0;
}

const text = (status: number, body: string, type = 'text/plain'): StoredResponse => ({
  status,
  headers: { 'content-type': type },
  body,
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The handler behind the layer: what one run of it answers. */
type Handler = (body: Buffer, request: IncomingMessage) => StoredResponse | Promise<StoredResponse>;

function handlerOf(
  method: string,
  route: string,
  url: URL,
  count: () => number,
): Handler | undefined {
  const status = /^\/status\/(\d{3})$/.exec(route);
  if (method === 'POST' && route === '/echo')
    return (body, request) => {
      count();
      return text(
        201,
        body.toString('utf8'),
        request.headers['content-type'] ?? 'application/octet-stream',
      );
    };
  if (method === 'POST' && status !== null) {
    const code = Number(status[1]);
    if (code < 200 || code > 599) return undefined;
    return () => {
      count();
      return text(code, `status:${code}`);
    };
  }
  if (method === 'POST' && route === '/slow') {
    const ms = numberParam(url, 'ms', MAX_SLOW_MS);
    return async () => {
      count();
      await sleep(ms);
      return text(200, `slept:${ms}`);
    };
  }
  if (method === 'POST' && route === '/large') {
    const bytes = numberParam(url, 'bytes', MAX_LARGE_BYTES);
    return () => {
      count();
      return text(200, 'x'.repeat(bytes), 'application/octet-stream');
    };
  }
  // A GET of the order endpoint reads; every other method makes an order.
  if (route === '/api')
    return () => jsonResponse(200, { status: 'success', order: method === 'GET' ? null : count() });
  return undefined;
}

/** Methods whose requests the layer deduplicates: the key is required and honoured. */
const KEYED = new Set(['POST', 'PATCH']);

/** Answers a request under /conformance (`url.pathname` still carries the prefix). */
export async function conformanceRoute(
  guard: GuardContext,
  request: IncomingMessage,
  url: URL,
): Promise<Outcome> {
  const method = request.method ?? 'GET';
  const route = url.pathname.slice(CONFORMANCE_PREFIX.length) || '/';
  const counter = counterOf(guard.pool);
  if (method === 'POST' && route === '/reset') {
    counter.count = 0;
    return { response: { status: 204, headers: {}, body: '' }, replayed: false };
  }
  if (method === 'GET' && route === '/counter')
    return { response: jsonResponse(200, { count: counter.count }), replayed: false };
  const handler = handlerOf(method, route, url, () => (counter.count += 1));
  if (handler === undefined)
    throw new HttpProblem(404, 'Not found', `no conformance route for ${method} ${route}`);
  const tenant = tenantOf(request);
  const body = await rawBody(request);
  // A key on another method is ignored, as the draft's motivation says (GET is safe already).
  if (!KEYED.has(method) || guard.settings.flaw === 'no-idempotency')
    return { response: await handler(body, request), replayed: false };
  const key = idempotencyKeyOf(request);
  if (key === undefined)
    throw new HttpProblem(
      400,
      'Missing Idempotency-Key',
      'this endpoint requires an Idempotency-Key header',
    );
  return runIdempotent(
    guard,
    { tenant, key, method, path: `${url.pathname}${url.search}`, body: body.toString('base64') },
    {
      execute: () => Promise.resolve(handler(body, request)),
      regenerate: () => Promise.resolve(undefined),
    },
  );
}
