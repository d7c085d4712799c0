#!/usr/bin/env node
/**
 * The demo target as a process of its own, so scenarios can crash and restart it:
 *
 *   node dist/demo/target-main.js --port 3000 --database-url postgres://… [--flaw NAME]
 *     [--workers N] [--pid-file demo.pid] [--lock-timeout-ms 2000] [--processing-ms 0]
 *     [--exit-with PID]
 *
 * With `--workers N` (N > 1) the process is a node:cluster primary whose N workers share the
 * port. The PID file holds the primary's id: `kill -9 $(cat demo.pid)` crashes the whole
 * target (workers exit when their primary is gone). A killed process loses what it held in
 * memory; PostgreSQL keeps the key store. The lock timeout defaults to 2 s, below the default
 * profile's 5 s in-progress timeout, so a key a crash left reserved is taken over in time.
 *
 * Must not: listen beyond 127.0.0.1, or outlive the process named by `--exit-with`.
 */
import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseFlaw } from './flaws.js';
import { migrateDatabase, startDemoTarget } from './server.js';

/** The lock timeout of the demo as a process: below the default profile's 5 s. */
export const PROCESS_LOCK_TIMEOUT_MS = 2000;
const PARENT_CHECK_MS = 500;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'database-url': { type: 'string' },
    flaw: { type: 'string', default: 'none' },
    workers: { type: 'string', default: '1' },
    'pid-file': { type: 'string' },
    'lock-timeout-ms': { type: 'string', default: String(PROCESS_LOCK_TIMEOUT_MS) },
    'processing-ms': { type: 'string', default: '0' },
    'exit-with': { type: 'string' },
  },
  strict: true,
});

function whole(name: string, value: string | undefined, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max)
    fail(`--${name} expects a whole number from ${min} to ${max}, got '${value ?? ''}'`);
  return number;
}

function fail(message: string): never {
  process.stderr.write(`idemproof demo target: ${message}\n`);
  process.exit(2);
}

const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL ?? '';
if (databaseUrl === '') fail('--database-url (or DATABASE_URL) is required');
const port = whole('port', values.port, 0, 65535);
const workers = whole('workers', values.workers, 1, 64);
const lockTimeoutMs = whole('lock-timeout-ms', values['lock-timeout-ms'], 0, 3_600_000);
const processingMs = whole('processing-ms', values['processing-ms'], 0, 60_000);
const flaw = parseFlaw(values.flaw);
const exitWith =
  values['exit-with'] === undefined
    ? undefined
    : whole('exit-with', values['exit-with'], 1, 2 ** 31);

if (exitWith !== undefined) {
  // Exits when the named process is gone (a test runner that died without cleaning up).
  setInterval(() => {
    try {
      process.kill(exitWith, 0);
    } catch {
      process.exit(0);
    }
  }, PARENT_CHECK_MS).unref();
}

if (workers > 1 && cluster.isPrimary) {
  if (values['pid-file'] !== undefined) writeFileSync(values['pid-file'], `${process.pid}\n`);
  // The tables are made once, before the workers race for them.
  await migrateDatabase(databaseUrl);
  let listening = 0;
  for (let index = 0; index < workers; index += 1) cluster.fork();
  cluster.on('listening', (_worker, address) => {
    listening += 1;
    if (listening === workers)
      process.stdout.write(
        `idemproof demo target listening on http://127.0.0.1:${address.port} (${workers} workers, flaw ${flaw})\n`,
      );
  });
  const stop = (): void => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  if (cluster.isPrimary && values['pid-file'] !== undefined)
    writeFileSync(values['pid-file'], `${process.pid}\n`);
  const target = await startDemoTarget({
    databaseUrl,
    port,
    flaw,
    lockTimeoutMs,
    processingMs,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (cluster.isPrimary)
    process.stdout.write(`idemproof demo target listening on ${target.url} (flaw ${flaw})\n`);
  const stop = (): void => {
    void target.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
