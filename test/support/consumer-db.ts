import { randomBytes } from 'node:crypto';
import type { TestDatabase } from './database.js';

/**
 * Helpers shared by the demo consumer test files: a broker and a database started in
 * `beforeAll`, polled for the rows the consumer writes.
 */

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} did not start in beforeAll`);
  return value;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const uid = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** `waitFor` (polling every 50 ms, `waitMs` unless told), `rowsOf` and `effects` on `database()`. */
export function consumerDb(database: () => TestDatabase | undefined, waitMs: number) {
  async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = waitMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${what}: not within ${String(timeoutMs)} ms`);
  }

  /** How many rows of `table` have `column` equal to `value` (or among `value`). */
  async function rowsOf(
    table: string,
    column: string,
    value: string | readonly string[],
  ): Promise<number> {
    const match = typeof value === 'string' ? '= $1' : '= ANY($1)';
    const rows = await need(database(), 'the database').query<{ n: string }>(
      `SELECT count(*) AS n FROM ${table} WHERE ${column} ${match}`,
      [value],
    );
    return Number(rows[0]?.n ?? 0);
  }

  const effects = (ids: string | readonly string[]) =>
    rowsOf('consumer_effects', 'message_id', ids);

  return { waitFor, rowsOf, effects };
}
