import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A second correct idempotent API, written independently of the demo and making other choices
 * real APIs make: a concurrent duplicate waits for the first and gets its replay (no 409), a
 * different payload under a used key is 422 (IETF draft), replays carry no marker header, a
 * request without a key is simply processed (keys are optional), tenants come from X-Tenant,
 * and effects are counted at GET /effects?key=K as {"n": …}. State lives in memory: it is the
 * API under test here, not a stand-in for a server idemproof needs.
 */
export interface WaitAndReplayTarget {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The parts of a scenario that address this target (endpoint, tenants, payload, effect
 * probes), to be followed by a profile, overrides and patterns.
 */
export const WAIT_AND_REPLAY_SCENARIO = `target:
  baseUrl: http://127.0.0.1:1
  path: /shipments
  tenants:
    north: { X-Tenant: north }
    south: { X-Tenant: south }
payload: { template: { ref: 'ref-{{marker}}', parcels: { $int: [1, 9] } }, different: { parcels: 99 } }
effects: { http: { url: '/effects?key={{key}}', count: $.n } }
keylessEffects: { http: { url: '/effects?marker=ref-{{marker}}', count: $.n } }
`;

interface Stored {
  readonly body: string;
  readonly response: Promise<{ status: number; body: string; location: string }>;
}

export async function startWaitAndReplayTarget(
  options: {
    workMs?: number;
    /** The status of a key reused with another payload (default 422). */
    mismatchStatus?: number;
    /** Refuse a request without a key with 400 (default: process it). */
    requireKey?: boolean;
    /** Answer refusals as RFC 9457 problem details (default: plain JSON errors). */
    problemDetails?: boolean;
  } = {},
): Promise<WaitAndReplayTarget> {
  const keys = new Map<string, Stored>();
  const effects = new Map<string, number>();
  const byMarker = new Map<string, number>();
  const work = (): Promise<void> =>
    new Promise((resolve) => setTimeout(resolve, options.workMs ?? 15));

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://target.invalid');
    const tenant = String(request.headers['x-tenant'] ?? 'anonymous');
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };
    if (request.method === 'GET' && url.pathname === '/effects') {
      const key = url.searchParams.get('key');
      const marker = url.searchParams.get('marker');
      const n =
        key !== null ? (effects.get(`${tenant}\n${key}`) ?? 0) : (byMarker.get(marker ?? '') ?? 0);
      send(200, JSON.stringify({ n }));
      return;
    }
    const refuse = (status: number, detail: string): void => {
      if (options.problemDetails !== true) {
        send(status, JSON.stringify({ error: detail }));
        return;
      }
      response.writeHead(status, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type: 'about:blank', title: detail, status, detail }));
    };
    if (request.method !== 'POST' || url.pathname !== '/shipments') {
      send(404, '{"error":"not found"}');
      return;
    }
    let body = '';
    for await (const chunk of request) body += (chunk as Buffer).toString('utf8');
    const marker = (JSON.parse(body) as { ref?: string }).ref ?? '';
    const execute = async (
      effectKey: string | null,
    ): Promise<{ status: number; body: string; location: string }> => {
      await work();
      const id = `shp_${randomUUID()}`;
      if (effectKey !== null) effects.set(effectKey, (effects.get(effectKey) ?? 0) + 1);
      byMarker.set(marker, (byMarker.get(marker) ?? 0) + 1);
      return {
        status: 201,
        body: JSON.stringify({ id, ref: marker }),
        location: `/shipments/${id}`,
      };
    };
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' && options.requireKey === true) {
      refuse(400, 'Idempotency-Key is required');
      return;
    }
    if (typeof key !== 'string') {
      const created = await execute(null);
      send(created.status, created.body, { location: created.location });
      return;
    }
    const scoped = `${tenant}\n${key}`;
    let stored = keys.get(scoped);
    if (stored === undefined) {
      stored = { body, response: execute(scoped) };
      keys.set(scoped, stored);
    } else if (stored.body !== body) {
      refuse(options.mismatchStatus ?? 422, 'idempotency key reused with another payload');
      return;
    }
    const result = await stored.response; // a concurrent duplicate waits here for the first
    send(result.status, result.body, { location: result.location });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
