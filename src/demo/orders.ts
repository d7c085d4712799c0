import type pg from 'pg';
import { HttpProblem, jsonResponse, type StoredResponse } from './http-io.js';
import type { Operation } from './idempotency.js';

/**
 * Orders move through states by `PATCH /orders/:id {status}`; the last applied change wins, so
 * a late duplicate of an earlier change that runs again moves the order back. Every applied
 * change is one row in `order_events`: the effect counted per key.
 */
export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

interface OrderRow {
  id: string;
  status: string;
  version: number;
  updated_at: Date;
}

const ORDER_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function parseOrderId(id: string): string {
  if (!ORDER_ID.test(id)) {
    throw new HttpProblem(
      400,
      'Invalid order id',
      'an order id is 1 to 100 letters, digits, dots, dashes or underscores',
    );
  }
  return id;
}

export function parseOrderChange(body: unknown): { status: OrderStatus } {
  const status = (body as { status?: unknown } | undefined)?.status;
  if (typeof status !== 'string' || !(ORDER_STATUSES as readonly string[]).includes(status)) {
    throw new HttpProblem(
      400,
      'Invalid order change',
      `status must be one of ${ORDER_STATUSES.join(', ')}`,
    );
  }
  return { status: status as OrderStatus };
}

function orderJson(row: OrderRow): Record<string, unknown> {
  return {
    id: row.id,
    status: row.status,
    version: row.version,
    updated_at: row.updated_at.toISOString(),
  };
}

/** Sets an order's status (creating the order on first change) and records the event. */
export function changeOrder(
  tenant: string,
  id: string,
  key: string | undefined,
  status: OrderStatus,
): Operation {
  return {
    async execute(db: pg.PoolClient): Promise<StoredResponse> {
      const before = await db.query<{ status: string }>(
        'SELECT status FROM orders WHERE tenant = $1 AND id = $2 FOR UPDATE',
        [tenant, id],
      );
      const updated = await db.query<OrderRow>(
        `INSERT INTO orders (tenant, id, status, version, updated_at)
         VALUES ($1, $2, $3, 1, date_trunc('milliseconds', clock_timestamp()))
         ON CONFLICT (tenant, id) DO UPDATE
           SET status = EXCLUDED.status, version = orders.version + 1, updated_at = EXCLUDED.updated_at
         RETURNING id, status, version, updated_at`,
        [tenant, id, status],
      );
      await db.query(
        `INSERT INTO order_events (tenant, order_id, idempotency_key, from_status, to_status)
         VALUES ($1, $2, $3, $4, $5)`,
        [tenant, id, key ?? null, before.rows[0]?.status ?? null, status],
      );
      return jsonResponse(200, orderJson(updated.rows[0] as OrderRow));
    },
    async regenerate(db: pg.Pool): Promise<StoredResponse | undefined> {
      const found = await db.query<OrderRow>(
        'SELECT id, status, version, updated_at FROM orders WHERE tenant = $1 AND id = $2',
        [tenant, id],
      );
      const row = found.rows[0];
      return row === undefined ? undefined : jsonResponse(200, orderJson(row));
    },
  };
}

export async function getOrder(pool: pg.Pool, tenant: string, id: string): Promise<StoredResponse> {
  const found = await pool.query<OrderRow>(
    'SELECT id, status, version, updated_at FROM orders WHERE tenant = $1 AND id = $2',
    [tenant, id],
  );
  const row = found.rows[0];
  if (row === undefined) throw new HttpProblem(404, 'Not found', `no order ${id}`);
  return jsonResponse(200, orderJson(row));
}

/** `GET /orders/:id/events[?idempotency_key=K]`: applied changes, for effect probes. */
export async function listOrderEvents(
  pool: pg.Pool,
  tenant: string,
  id: string,
  key: string | undefined,
): Promise<StoredResponse> {
  const found = await pool.query<{
    seq: string;
    idempotency_key: string | null;
    from_status: string | null;
    to_status: string;
    at: Date;
  }>(
    `SELECT seq, idempotency_key, from_status, to_status, at FROM order_events
      WHERE tenant = $1 AND order_id = $2 AND ($3::text IS NULL OR idempotency_key = $3)
      ORDER BY seq`,
    [tenant, id, key ?? null],
  );
  const data = found.rows.map((row) => ({
    seq: Number(row.seq),
    idempotency_key: row.idempotency_key,
    from: row.from_status,
    to: row.to_status,
    at: row.at.toISOString(),
  }));
  return jsonResponse(200, { data, count: data.length });
}
