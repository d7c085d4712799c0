import type pg from 'pg';

/**
 * The demo consumers' tables (see `types.ts` for what each holds). `consumer_inbox` is unique
 * per message id: the inbox insert … ON CONFLICT DO NOTHING in the effect's transaction is what
 * makes the correct consumer correct.
 *
 * Must not: drop, alter or empty a table; every statement is safe to run on every start.
 */
const STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS consumer_effects (
     id         bigserial   PRIMARY KEY,
     message_id text        NOT NULL,
     entity     text        NOT NULL,
     amount     integer,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX IF NOT EXISTS consumer_effects_by_message ON consumer_effects (message_id)`,
  `CREATE TABLE IF NOT EXISTS consumer_state (
     entity  text PRIMARY KEY,
     version integer,
     status  text
   )`,
  `CREATE TABLE IF NOT EXISTS consumer_inbox (
     message_id   text        PRIMARY KEY,
     processed_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS consumer_dead (
     message_id text        NOT NULL,
     reason     text        NOT NULL,
     at         timestamptz NOT NULL DEFAULT now()
   )`,
];

/** Another key than the demo target's (736451): both may migrate one database at once. */
const MIGRATION_LOCK = 736452;

/** Creates the consumer tables if they are missing. Safe to run on every start. */
export async function migrateConsumerTables(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    // Two consumers starting on one database at once must not race on CREATE TABLE.
    await client.query(`SELECT pg_advisory_lock(${String(MIGRATION_LOCK)})`);
    for (const statement of STATEMENTS) await client.query(statement);
  } finally {
    await client
      .query(`SELECT pg_advisory_unlock(${String(MIGRATION_LOCK)})`)
      .catch(() => undefined);
    client.release();
  }
}
