import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small API for flow tests, reached through real sockets: POST /login answers a token;
 * POST /customers creates a customer; POST /payments (Idempotency-Key, body {customer}) pays
 * with an existing customer only (else 422), stores its answer per key and replays it;
 * GET /payments?key=K counts one key's payments; GET /counter counts every payment (a global
 * counter, for delta probes); POST /reset empties everything; PUT /orders/{id} applies
 * {action: create|delete} to an order; GET /orders/{id} answers it, or 404 when absent.
 *
 * Behaviours a test picks: `dedupe: false` executes every request (a double effect);
 * `retentionMs` forgets a key that long after it was stored (undefined: never).
 */
export interface FlowTargetOptions {
  readonly dedupe?: boolean;
  readonly retentionMs?: number;
  /** Requests must carry `Authorization: Bearer <token from /login>`. */
  readonly requireToken?: boolean;
}

export interface FlowTarget {
  readonly url: string;
  /** Every request as "METHOD /path", in order. */
  readonly requests: string[];
  /** The customer of each executed payment. */
  readonly paidCustomers: string[];
  readonly customers: Set<string>;
  readonly token: string;
  close(): Promise<void>;
}

interface Stored {
  readonly status: number;
  readonly body: string;
  readonly at: number;
}

export function startFlowTarget(options: FlowTargetOptions = {}): Promise<FlowTarget> {
  const token = `tok_${Math.random().toString(36).slice(2)}`;
  const requests: string[] = [];
  const paidCustomers: string[] = [];
  const customers = new Set<string>();
  let stored = new Map<string, Stored>();
  let perKey = new Map<string, number>();
  let counter = 0;
  let orders = new Map<string, { status: string }>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://x');
      requests.push(`${request.method ?? ''} ${url.pathname}`);
      const json = (status: number, value: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      if (request.method === 'POST' && url.pathname === '/login') return json(200, { token });
      if (options.requireToken === true && request.headers.authorization !== `Bearer ${token}`)
        return json(401, { error: 'unauthorized' });
      if (request.method === 'POST' && url.pathname === '/reset') {
        stored = new Map();
        perKey = new Map();
        orders = new Map();
        counter = 0;
        return json(200, { reset: true });
      }
      if (request.method === 'POST' && url.pathname === '/customers') {
        const id = `cus_${customers.size + 1}`;
        customers.add(id);
        return json(201, { id, name: body.name });
      }
      if (request.method === 'GET' && url.pathname === '/counter')
        return json(200, { count: counter });
      if (request.method === 'GET' && url.pathname === '/payments')
        return json(200, { count: perKey.get(url.searchParams.get('key') ?? '') ?? 0 });
      if (request.method === 'POST' && url.pathname === '/payments') {
        const key = String(request.headers['idempotency-key'] ?? '');
        const previous = stored.get(key);
        const fresh =
          previous !== undefined &&
          (options.retentionMs === undefined || Date.now() - previous.at < options.retentionMs);
        if (options.dedupe !== false && fresh) {
          response.writeHead(previous.status, { 'content-type': 'application/json' });
          response.end(previous.body);
          return;
        }
        const customer = typeof body.customer === 'string' ? body.customer : '';
        if (!customers.has(customer)) return json(422, { error: `no customer '${customer}'` });
        counter += 1;
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        paidCustomers.push(customer);
        const answer = JSON.stringify({ id: `pay_${counter}`, customer });
        stored.set(key, { status: 201, body: answer, at: Date.now() });
        return json(201, JSON.parse(answer));
      }
      const order = /^\/orders\/([^/]+)$/.exec(url.pathname)?.[1];
      if (order !== undefined && request.method === 'GET') {
        const found = orders.get(order);
        return found === undefined ? json(404, { error: 'not found' }) : json(200, found);
      }
      if (order !== undefined && request.method === 'PUT') {
        const key = String(request.headers['idempotency-key'] ?? '');
        const previous = stored.get(key);
        if (options.dedupe !== false && previous !== undefined) {
          response.writeHead(previous.status, { 'content-type': 'application/json' });
          response.end(previous.body);
          return;
        }
        if (body.action === 'delete') orders.delete(order);
        else orders.set(order, { status: 'created' });
        const answer = JSON.stringify({ order, action: body.action });
        stored.set(key, { status: 200, body: answer, at: Date.now() });
        return json(200, JSON.parse(answer));
      }
      return json(404, { error: 'no route' });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        paidCustomers,
        customers,
        token,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
