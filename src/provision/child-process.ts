import { spawn } from 'node:child_process';
import { registerCleanup } from './cleanup.js';
import { processStartTime } from './process-identity.js';

/** A child process idemproof started and will stop, with the tail of its output kept. */
export interface ManagedProcess {
  readonly pid: number;
  readonly name: string;
  /** Resolves with the exit code (or null when killed by a signal) when the process ends. */
  readonly exited: Promise<number | null>;
  /** Is the process still running? */
  running(): boolean;
  /** The last few kilobytes of stdout and stderr, for error messages. */
  output(): string;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILL. Safe to call more than once. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Signal for an orderly stop; PostgreSQL wants SIGINT (fast shutdown). */
  readonly stopSignal?: NodeJS.Signals;
}

const OUTPUT_TAIL_BYTES = 16 * 1024;

/**
 * Starts a process that idemproof owns: it is registered for cleanup at once, so it is
 * stopped on normal end, on signals (through the CLI) and killed on process exit.
 *
 * Must not: leave the process running when the caller forgets to stop it.
 */
export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ManagedProcess {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  let isRunning = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      keep(Buffer.from(`\n${error.message}\n`));
      isRunning = false;
      resolve(null);
    });
    child.once('exit', (code) => {
      isRunning = false;
      resolve(code);
    });
  });

  const stopSignal = options.stopSignal ?? 'SIGTERM';
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals = stopSignal, graceMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      if (isRunning) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      unregister();
    })();
    return stopping;
  };

  const unregister = registerCleanup({
    name: `${name} (pid ${child.pid ?? '?'})`,
    run: () => stop(),
    onExit: () => {
      if (isRunning) child.kill('SIGKILL');
    },
    ...(child.pid === undefined
      ? {}
      : {
          resource: {
            kind: 'process',
            name,
            pid: child.pid,
            startTime: processStartTime(child.pid),
            command,
            stopSignal,
          },
        }),
  });
  void exited.then(() => {
    if (stopping === undefined) unregister();
  });

  return {
    pid: child.pid ?? -1,
    name,
    exited,
    running: () => isRunning,
    output: () => tail,
    stop,
  };
}

/**
 * Polls `ready` until it returns true, the process exits, or `timeoutMs` passes.
 * Returns 'ready', 'exited' or 'timeout'; never throws for a failing probe.
 */
export async function waitUntilReady(
  process: ManagedProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!process.running()) return 'exited';
    try {
      if (await ready()) return 'ready';
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return process.running() ? 'timeout' : 'exited';
}
