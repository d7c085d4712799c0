import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh database on the shared test server, dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `idemproof_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => undefined);
  return {
    url: url.toString(),
    async query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
      return (await pool.query<T>(sql, values)).rows;
    },
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: serverUrl });
      client.on('error', () => undefined);
      await client.connect();
      try {
        // Connections closed a moment ago may still be leaving: wait for them rather than
        // terminate them (a terminated connection that is still closing reports an error).
        for (let attempt = 1; ; attempt += 1) {
          try {
            await client.query(
              `DROP DATABASE IF EXISTS ${name}${attempt > 50 ? ' WITH (FORCE)' : ''}`,
            );
            break;
          } catch (error) {
            if (attempt > 50 || (error as { code?: string }).code !== '55006') throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      } finally {
        await client.end();
      }
    },
  };
}
