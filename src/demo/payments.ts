import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { withDeadline } from '../client/deadline.js';
import type { Flaw } from './flaws.js';
import { HttpProblem, jsonResponse, type StoredResponse } from './http-io.js';
import type { Operation } from './idempotency.js';
import { chargeProvider, forwardedKeyOf } from './provider.js';

/** The body of `POST /payments`. */
export interface PaymentRequest {
  readonly amount: number;
  readonly currency: string;
  readonly customer: string;
  /** Optional: the demo calls this URL (loopback only) once the payment is committed. */
  readonly webhook_url?: string;
  /**
   * Optional: the payment provider (loopback only), called before the payment is written and
   * before the answer, with a forwarded key derived from the idempotency key.
   */
  readonly provider_url?: string;
}

interface PaymentRow {
  id: string;
  amount: string;
  currency: string;
  customer: string;
  status: string;
  created_at: Date;
}

/** Validates a payment request body; errors are 400s that are never stored under the key. */
export function parsePaymentRequest(body: unknown): PaymentRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpProblem(
      400,
      'Invalid payment',
      'the body must be a JSON object {amount, currency, customer}',
    );
  }
  const {
    amount,
    currency,
    customer,
    webhook_url: webhook,
    provider_url: provider,
  } = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    problems.push('amount must be a positive integer (minor units)');
  }
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    problems.push('currency must be a three-letter ISO 4217 code such as "EUR"');
  }
  if (typeof customer !== 'string' || customer.length === 0 || customer.length > 200) {
    problems.push('customer must be a non-empty string of at most 200 characters');
  }
  if (webhook !== undefined && !isLoopbackUrl(webhook)) {
    problems.push('webhook_url must be an http URL on 127.0.0.1, localhost or [::1]');
  }
  if (provider !== undefined && !isLoopbackUrl(provider)) {
    problems.push('provider_url must be an http URL on 127.0.0.1, localhost or [::1]');
  }
  if (problems.length > 0) throw new HttpProblem(400, 'Invalid payment', problems.join('; '));
  return {
    amount: amount as number,
    currency: currency as string,
    customer: customer as string,
    ...(typeof webhook === 'string' ? { webhook_url: webhook } : {}),
    ...(typeof provider === 'string' ? { provider_url: provider } : {}),
  };
}

function isLoopbackUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

const NOTIFY_TIMEOUT_MS = 2000;

/**
 * Tells the webhook about a committed payment; failures are ignored, as a real notifier would
 * retry. Must not outlive 2 s: the deadline (never `AbortSignal.timeout`, which a garbage
 * collection can drop) holds until the call settles.
 */
function notify(url: string, payment: { id: string; key: string | undefined }): void {
  void withDeadline(NOTIFY_TIMEOUT_MS, async (signal) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment_id: payment.id, idempotency_key: payment.key ?? null }),
      signal,
    });
    await response.body?.cancel();
  }).catch(() => undefined);
}

function paymentJson(row: PaymentRow): Record<string, unknown> {
  return {
    id: row.id,
    amount: Number(row.amount),
    currency: row.currency,
    customer: row.customer,
    status: row.status,
    created_at: row.created_at.toISOString(),
  };
}

/** Creates one payment row: the effect that must happen once per key. */
export function createPayment(
  tenant: string,
  key: string | undefined,
  payment: PaymentRequest,
  flaw: Flaw = 'none',
): Operation {
  const id = `pay_${randomBytes(12).toString('hex')}`;
  return {
    afterCommit() {
      if (payment.webhook_url !== undefined) notify(payment.webhook_url, { id, key });
    },
    async execute(db: pg.PoolClient): Promise<StoredResponse> {
      if (payment.provider_url !== undefined)
        await chargeProvider(payment.provider_url, forwardedKeyOf(tenant, key), flaw);
      const inserted = await db.query<PaymentRow>(
        `INSERT INTO payments (id, tenant, idempotency_key, amount, currency, customer, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'succeeded')
         RETURNING id, amount, currency, customer, status, created_at`,
        [id, tenant, key ?? null, payment.amount, payment.currency, payment.customer],
      );
      const row = inserted.rows[0] as PaymentRow;
      return jsonResponse(201, paymentJson(row), { location: `/payments/${row.id}` });
    },
    async regenerate(db: pg.Pool): Promise<StoredResponse | undefined> {
      const found = await db.query<PaymentRow>(
        `SELECT id, customer, amount, currency, status, created_at FROM payments
          WHERE tenant = $1 AND idempotency_key = $2 ORDER BY created_at LIMIT 1`,
        [tenant, key],
      );
      const row = found.rows[0];
      if (row === undefined) return undefined;
      const { id, customer, amount, currency, status, created_at } = paymentJson(row);
      return jsonResponse(200, { id, customer, amount, currency, status, created_at });
    },
  };
}

/** `GET /payments?idempotency_key=K` or `?customer=C`: effects, for effect probes. */
export async function listPayments(
  pool: pg.Pool,
  tenant: string,
  filter: { key: string } | { customer: string },
): Promise<StoredResponse> {
  const [column, value] =
    'key' in filter ? ['idempotency_key', filter.key] : ['customer', filter.customer];
  const found = await pool.query<PaymentRow>(
    `SELECT id, amount, currency, customer, status, created_at FROM payments
      WHERE tenant = $1 AND ${column} = $2 ORDER BY created_at, id`,
    [tenant, value],
  );
  return jsonResponse(200, { data: found.rows.map(paymentJson), count: found.rows.length });
}

export async function getPayment(
  pool: pg.Pool,
  tenant: string,
  id: string,
): Promise<StoredResponse> {
  const found = await pool.query<PaymentRow>(
    'SELECT id, amount, currency, customer, status, created_at FROM payments WHERE tenant = $1 AND id = $2',
    [tenant, id],
  );
  const row = found.rows[0];
  if (row === undefined) throw new HttpProblem(404, 'Not found', `no payment ${id}`);
  return jsonResponse(200, paymentJson(row));
}
