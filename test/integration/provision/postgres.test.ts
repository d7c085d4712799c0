import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { startPostgres } from '../../../src/provision/postgres.js';

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

describe('PostgreSQL provisioning', () => {
  it('without DATABASE_URL starts a real throwaway cluster on loopback and removes it on stop', async () => {
    const server = await startPostgres({ env: { ...process.env, DATABASE_URL: '' } });
    expect(server.embedded).toBe(true);
    const [version] = await query(server.url, 'select version() as version');
    expect(String(version?.version)).toMatch(/^PostgreSQL \d+/);
    const [settings] = await query(
      server.url,
      "select current_setting('listen_addresses') as listen, current_setting('data_directory') as data",
    );
    expect(settings?.listen).toBe('127.0.0.1');
    const dataDir = String(settings?.data);
    expect(existsSync(dataDir)).toBe(true);

    await server.stop();
    expect(existsSync(dataDir)).toBe(false);
    await expect(query(server.url, 'select 1')).rejects.toThrow();
    await server.stop(); // a second stop is harmless
  });

  it('with DATABASE_URL uses that server and leaves it running on stop', async () => {
    const url = inject('databaseUrl');
    const server = await startPostgres({ databaseUrl: url });
    expect(server.embedded).toBe(false);
    await server.stop();
    expect(await query(url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('reports an unreachable DATABASE_URL clearly, without its password', async () => {
    const error = await startPostgres({
      env: { DATABASE_URL: 'postgres://app:s3cret-pass@127.0.0.1:1/app' },
    }).catch((caught: unknown) => caught);
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_POSTGRES_UNAVAILABLE');
    const message = (error as Error).message;
    expect(message).toContain('DATABASE_URL=postgres://app:***@127.0.0.1:1/app');
    expect(message).not.toContain('s3cret-pass');
  });
});
