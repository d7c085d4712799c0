import type pg from 'pg';

/**
 * The demo target's tables. `idempotency_keys` is unique per (tenant, key): the reservation is
 * one atomic INSERT … ON CONFLICT, which is what makes the correct behaviour correct.
 */
const STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS idempotency_keys (
     tenant           text        NOT NULL,
     key              text        NOT NULL,
     method           text        NOT NULL,
     path             text        NOT NULL,
     fingerprint      text        NOT NULL,
     state            text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
     lock_token       text        NOT NULL,
     locked_at        timestamptz NOT NULL,
     expires_at       timestamptz NOT NULL,
     response_status  integer,
     response_headers json,
     response_body    text,
     PRIMARY KEY (tenant, key)
   )`,
  `CREATE TABLE IF NOT EXISTS payments (
     id              text           PRIMARY KEY,
     tenant          text           NOT NULL,
     idempotency_key text,
     amount          bigint         NOT NULL,
     currency        text           NOT NULL,
     customer        text           NOT NULL,
     status          text           NOT NULL,
     created_at      timestamptz(3) NOT NULL DEFAULT date_trunc('milliseconds', now())
   )`,
  `CREATE INDEX IF NOT EXISTS payments_by_key ON payments (tenant, idempotency_key)`,
  `CREATE TABLE IF NOT EXISTS orders (
     tenant     text           NOT NULL,
     id         text           NOT NULL,
     status     text           NOT NULL,
     version    integer        NOT NULL,
     updated_at timestamptz(3) NOT NULL,
     PRIMARY KEY (tenant, id)
   )`,
  `CREATE TABLE IF NOT EXISTS order_events (
     seq             bigserial      PRIMARY KEY,
     tenant          text           NOT NULL,
     order_id        text           NOT NULL,
     idempotency_key text,
     from_status     text,
     to_status       text           NOT NULL,
     at              timestamptz(3) NOT NULL DEFAULT date_trunc('milliseconds', now())
   )`,
  `CREATE INDEX IF NOT EXISTS order_events_by_order ON order_events (tenant, order_id)`,
  `CREATE TABLE IF NOT EXISTS charges (
     id              text           PRIMARY KEY,
     tenant          text           NOT NULL,
     idempotency_key text,
     marker          text,
     kind            text           NOT NULL,
     amount          bigint,
     currency        text,
     params          json           NOT NULL,
     created_at      timestamptz(3) NOT NULL DEFAULT date_trunc('milliseconds', now())
   )`,
  `CREATE INDEX IF NOT EXISTS charges_by_key ON charges (tenant, idempotency_key)`,
  `CREATE INDEX IF NOT EXISTS charges_by_marker ON charges (tenant, marker)`,
];

/** Creates the tables if they are missing. Safe to run on every start. */
export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    // Two targets starting on one database at once must not race on CREATE TABLE.
    await client.query('SELECT pg_advisory_lock(736451)');
    for (const statement of STATEMENTS) await client.query(statement);
  } finally {
    await client.query('SELECT pg_advisory_unlock(736451)').catch(() => undefined);
    client.release();
  }
}
