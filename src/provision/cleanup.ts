/**
 * The process-wide list of things idemproof started and must stop: child processes, proxies on
 * a shared Toxiproxy, temporary folders.
 *
 * Library code registers a cleanup when it starts something and unregisters it when it stops
 * it. On process exit, the synchronous part of every cleanup still registered runs (a child
 * process gets SIGKILL), so nothing outlives the harness even after an uncaught exception.
 * Signal handling is opt-in (`cleanUpOnSignals`), because only the CLI owns the process.
 * A cleanup that names its `resource` is also written to the on-disk registry
 * (`run-registry.ts`), so that after a SIGKILL the reaper and `idemproof clean` find it.
 *
 * Must not: throw from a cleanup (errors are collected), or run a cleanup twice.
 */

import { track, type TrackedResource } from './run-registry.js';

export interface Cleanup {
  /** What is being cleaned up, for messages: "toxiproxy-server pid 123". */
  readonly name: string;
  /** The orderly way: stop, wait, remove. */
  readonly run: () => Promise<void>;
  /** The last resort on process exit, where only synchronous calls run. */
  readonly onExit?: () => void;
  /** What it is on disk, for the registry: found and removed after a SIGKILL. */
  readonly resource?: TrackedResource;
}

const registered = new Map<Cleanup, () => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [cleanup, untrack] of registered) {
      if (cleanup.onExit === undefined) continue;
      try {
        cleanup.onExit();
        untrack();
      } catch {
        // The process is ending; a failed last-resort kill has nowhere to be reported.
      }
    }
    // What is still tracked (proxies on a shared Toxiproxy) is left to the reaper.
  });
}

/** Registers a cleanup; the returned function unregisters it without running it. */
export function registerCleanup(cleanup: Cleanup): () => void {
  installExitHook();
  const untrack = cleanup.resource === undefined ? () => undefined : track(cleanup.resource);
  registered.set(cleanup, untrack);
  return () => {
    registered.delete(cleanup);
    untrack();
  };
}

/** Runs every registered cleanup, newest first, and returns the errors it met. */
export async function runCleanups(): Promise<Error[]> {
  const errors: Error[] = [];
  const newestFirst = [...registered].reverse();
  for (const [cleanup, untrack] of newestFirst) {
    registered.delete(cleanup);
    try {
      await cleanup.run();
      untrack();
    } catch (error) {
      errors.push(
        new Error(`cleanup of ${cleanup.name} failed: ${String(error)}`, { cause: error }),
      );
    }
  }
  return errors;
}

export function pendingCleanups(): readonly string[] {
  return [...registered.keys()].map((cleanup) => cleanup.name);
}

/** Why the process is asked to stop gracefully. */
export type StopRequest =
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'crash'; readonly error: unknown };

const stopListeners = new Set<(request: StopRequest) => void>();

/**
 * Asks to hear about the first SIGINT or SIGTERM (or an uncaught exception, see
 * `cleanUpOnCrash`) as a request to stop gracefully: a run stops sending, removes its lanes
 * and writes its reports; the demo stops its stack. A second signal ends the process at once.
 */
export function onStopRequest(listener: (request: StopRequest) => void): () => void {
  stopListeners.add(listener);
  return () => {
    stopListeners.delete(listener);
  };
}

/** Tells every stop listener once; false when nobody was listening. */
export function requestStop(request: StopRequest): boolean {
  if (stopListeners.size === 0) return false;
  const listeners = [...stopListeners];
  stopListeners.clear();
  for (const listener of listeners) listener(request);
  return true;
}

/**
 * What an immediate exit leaves behind: the cleanups with no synchronous last resort (proxies
 * on a shared Toxiproxy, for instance). Child processes are killed and folders removed by the
 * exit hook.
 */
export function leftBehind(): string {
  const left = [...registered.keys()].filter((cleanup) => cleanup.onExit === undefined);
  if (left.length === 0) return 'Nothing is left behind.';
  const names = left.map((cleanup) => cleanup.name).join('; ');
  return left.every((cleanup) => cleanup.resource !== undefined)
    ? `May be left behind: ${names} (the reaper removes it once this process has ended; \`idemproof clean\` finds it too).`
    : `May be left behind: ${names}.`;
}

/**
 * On SIGINT or SIGTERM: when something listens for stop requests (a run in progress), the
 * first signal asks it to stop gracefully, and a second one ends the process at once, saying
 * what may be left behind. Otherwise it runs every cleanup and ends the process with 128 + the
 * signal number; a second signal while cleaning up ends it at once (after the synchronous exit
 * hooks). Returns a function that removes the handlers.
 */
export function cleanUpOnSignals(log: (line: string) => void): () => void {
  let phase: 'running' | 'stopping' | 'cleaning' = 'running';
  const handler = (signal: NodeJS.Signals): void => {
    const exitCode = signal === 'SIGINT' ? 130 : 143;
    if (phase === 'running' && requestStop({ kind: 'signal', signal })) {
      phase = 'stopping';
      log(
        `${signal} received: stopping; removing fault lanes and writing what was recorded (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again exits at once)…`,
      );
      return;
    }
    if (phase !== 'running') {
      log(`${signal} received again: exiting at once. ${leftBehind()}`);
      process.exit(exitCode);
    }
    phase = 'cleaning';
    log(`${signal} received: cleaning up ${pendingCleanups().length} resource(s)…`);
    void runCleanups().then((errors) => {
      for (const error of errors) log(error.message);
      process.exit(exitCode);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** How long a graceful stop after a crash may take before the process exits anyway. */
const CRASH_GRACE_MS = 30_000;

/**
 * On an uncaught exception or unhandled rejection: logs it with its stack, asks a run in
 * progress to stop gracefully (it writes its reports marked as crashed), and ends the process
 * with `exitCode` once that is done or after CRASH_GRACE_MS. With nothing listening, it runs
 * every cleanup and exits.
 */
export function cleanUpOnCrash(log: (line: string) => void, exitCode: number): () => void {
  let crashed = false;
  const handler = (error: unknown): void => {
    log(
      `idemproof: internal error (uncaught): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    if (crashed) return;
    crashed = true;
    process.exitCode = exitCode;
    setTimeout(() => {
      log(
        `idemproof: the run did not stop within ${CRASH_GRACE_MS / 1000} s; exiting. ${leftBehind()}`,
      );
      process.exit(exitCode);
    }, CRASH_GRACE_MS).unref();
    if (requestStop({ kind: 'crash', error })) return;
    void runCleanups().then((errors) => {
      for (const failure of errors) log(failure.message);
      process.exit(exitCode);
    });
  };
  process.on('uncaughtException', handler);
  process.on('unhandledRejection', handler);
  return () => {
    process.off('uncaughtException', handler);
    process.off('unhandledRejection', handler);
  };
}
