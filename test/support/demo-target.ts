import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { ToxiproxyApi, type ProxyInfo } from '../../src/nemesis/toxiproxy-api.js';
import { startDemoTarget, type DemoTarget, type DemoTargetOptions } from '../../src/demo/server.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { send, type HttpResult } from './http.js';

export interface PaymentBody {
  amount: number;
  currency: string;
  customer: string;
}

export interface RunningDemo {
  readonly target: DemoTarget;
  readonly database: TestDatabase;
  /** POST /payments to the target (or to `baseUrl`, e.g. a proxy). */
  pay(
    key: string | undefined,
    body: PaymentBody,
    options?: {
      tenant?: string;
      baseUrl?: string;
      fresh?: boolean;
      timeoutMs?: number;
      /** Extra request headers. */
      headers?: Record<string, string>;
    },
  ): Promise<HttpResult>;
  /** With `throughStoreProxy`: the Toxiproxy proxy the target reaches PostgreSQL through. */
  readonly store?: ProxyInfo;
  /** Payment rows written for a key, read from PostgreSQL directly. */
  paymentsFor(key: string, tenant?: string): Promise<{ id: string }[]>;
  stop(): Promise<void>;
}

export const samplePayment = (amount = 1250): PaymentBody => ({
  amount,
  currency: 'EUR',
  customer: 'cus_42',
});

let sequence = 0;
/** A key no other test uses. */
export function freshKey(label = 'key'): string {
  sequence += 1;
  return `${label}-${process.pid}-${Date.now()}-${sequence}`;
}

/** Starts the demo target on a fresh database of the shared real PostgreSQL server. */
export async function startDemo(
  options: Omit<DemoTargetOptions, 'databaseUrl'> & {
    /** Route the target's PostgreSQL connection through a proxy on the shared Toxiproxy. */
    readonly throughStoreProxy?: boolean;
  } = {},
): Promise<RunningDemo> {
  const { throughStoreProxy, ...targetOptions } = options;
  const database = await createTestDatabase(inject('databaseUrl'));
  let databaseUrl = database.url;
  let store: ProxyInfo | undefined;
  if (throughStoreProxy === true) {
    const url = new URL(database.url);
    store = await new ToxiproxyApi(inject('toxiproxyUrl')).createProxy({
      name: `teststore_${randomBytes(4).toString('hex')}`,
      upstream: `${url.hostname}:${url.port || '5432'}`,
    });
    url.hostname = '127.0.0.1';
    url.port = String(store.port);
    databaseUrl = url.toString();
  }
  const target = await startDemoTarget({ ...targetOptions, databaseUrl });
  return {
    target,
    database,
    ...(store === undefined ? {} : { store }),
    pay(key, body, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (key !== undefined) headers['idempotency-key'] = key;
      if (callOptions.tenant !== undefined) headers.authorization = `Bearer ${callOptions.tenant}`;
      return send(`${callOptions.baseUrl ?? target.url}/payments`, {
        json: body,
        headers,
        ...(callOptions.fresh === undefined ? {} : { fresh: callOptions.fresh }),
        ...(callOptions.timeoutMs === undefined ? {} : { timeoutMs: callOptions.timeoutMs }),
      });
    },
    paymentsFor(key, tenant = 'public') {
      return database.query<{ id: string }>(
        'SELECT id FROM payments WHERE tenant = $1 AND idempotency_key = $2 ORDER BY created_at',
        [tenant, key],
      );
    },
    async stop() {
      await target.close();
      if (store !== undefined)
        await new ToxiproxyApi(inject('toxiproxyUrl')).removeProxy(store.name);
      await database.drop();
    },
  };
}
