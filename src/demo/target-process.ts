import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IdemproofError } from '../errors.js';
import { findFreePort } from '../provision/free-port.js';
import { httpReadiness, runCommand, waitReady } from '../nemesis/process.js';
import type { ProcessCommands } from '../scenario/schema-chaos.js';
import pg from 'pg';
import type { Flaw } from './flaws.js';
import type { DemoTarget, DemoTargetOptions } from './server.js';

/**
 * Starts the demo target as a process of its own (target-main.ts, one process or a cluster of
 * workers) through shell commands a scenario can use as its `process: {kill, start, ready}`:
 * a PID file in a temporary folder, a fixed port so a restart listens where the first start
 * did, and a readiness URL. The target logs to `target.log` in that folder.
 *
 * Must not: leave the target running after `stop()`, or outlive the process that started it
 * (it is told to exit with this one).
 */

export interface DemoProcessOptions {
  readonly databaseUrl: string;
  readonly flaw?: Flaw;
  /** Worker processes under node:cluster sharing the port (default 1: no cluster). */
  readonly workers?: number;
  /** Default PROCESS_LOCK_TIMEOUT_MS (2 s), below the default profile's in-progress timeout. */
  readonly lockTimeoutMs?: number;
  readonly processingMs?: number;
  /** Default: a free port. */
  readonly port?: number;
}

export interface DemoProcess {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly flaw: Flaw;
  readonly pidFile: string;
  /** A scenario's `process` section for this target. */
  readonly commands: ProcessCommands;
  /** Kills the target (SIGKILL, from the PID file) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** The entry to run: the built file, or the TypeScript source through tsx when run from src/. */
function entry(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    // Resolved from here: the command runs in another folder, where `tsx` alone is not found.
    const tsx = pathToFileURL(createRequire(here).resolve('tsx'));
    return ['--import', tsx.href, join(here, '..', 'target-main.ts')];
  }
  return [join(here, '..', 'target-main.js')];
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export async function startDemoProcess(options: DemoProcessOptions): Promise<DemoProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'idemproof-demo-process-'));
  const port = options.port ?? (await findFreePort());
  const flaw = options.flaw ?? 'none';
  const pidFile = join(dir, 'target.pid');
  const args = [
    ...entry(),
    '--port',
    String(port),
    '--database-url',
    options.databaseUrl,
    '--flaw',
    flaw,
    '--workers',
    String(options.workers ?? 1),
    '--pid-file',
    pidFile,
    '--exit-with',
    String(process.pid),
    ...(options.lockTimeoutMs === undefined
      ? []
      : ['--lock-timeout-ms', String(options.lockTimeoutMs)]),
    ...(options.processingMs === undefined
      ? []
      : ['--processing-ms', String(options.processingMs)]),
  ];
  const url = `http://127.0.0.1:${port}`;
  const commands: ProcessCommands = {
    kill: `kill -9 $(cat ${quote(pidFile)})`,
    start: `${[process.execPath, ...args].map(quote).join(' ')} >> ${quote(join(dir, 'target.log'))} 2>&1 &`,
    ready: { url: `${url}/health`, timeoutMs: START_TIMEOUT_MS, intervalMs: 50 },
    cwd: dir,
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await rm(dir, { recursive: true, force: true });
    })());

  const started = await runCommand(commands.start, { cwd: dir, timeoutMs: START_TIMEOUT_MS });
  const ready = await waitReady(httpReadiness(`${url}/health`, true), {
    timeoutMs: START_TIMEOUT_MS,
    intervalMs: 50,
  });
  if (started.exitCode !== 0 || !ready.ready) {
    const log = await readFile(join(dir, 'target.log'), 'utf8').catch(() => '');
    await stop();
    throw new IdemproofError(
      'IDEMPROOF_ERR_PROCESS_START',
      `the demo target process did not start on ${url}:\n${log.slice(-4096)}`,
    );
  }
  return { url, port, flaw, pidFile, commands, stop };
}

/**
 * The demo target of `idemproof demo --process`: a child process (or a cluster of `workers`),
 * seen as a DemoTarget whose `process` holds the commands that crash and restart it. HTTPS is
 * not offered this way.
 */
export async function startDemoTargetProcess(
  options: DemoTargetOptions,
  workers: number,
): Promise<DemoTarget & { readonly process: DemoProcess }> {
  if (options.tls !== undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      'the demo target as a process serves http only: leave out --https',
    );
  }
  const child = await startDemoProcess({
    databaseUrl: options.databaseUrl,
    flaw: options.flaw ?? 'none',
    workers,
    ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
    ...(options.processingMs === undefined ? {} : { processingMs: options.processingMs }),
    ...(options.port === undefined || options.port === 0 ? {} : { port: options.port }),
  });
  // Readers of the demo's tables (none of the target's own state is here).
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    url: child.url,
    port: child.port,
    flaw: child.flaw,
    pool,
    process: child,
    close: () =>
      (closing ??= (async () => {
        await child.stop();
        await pool.end();
      })()),
  };
}
