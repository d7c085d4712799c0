/**
 * The process-wide list of things idemproof started and must stop: child processes, proxies on
 * a shared Toxiproxy, temporary folders.
 *
 * Library code registers a cleanup when it starts something and unregisters it when it stops
 * it. On process exit, the synchronous part of every cleanup still registered runs (a child
 * process gets SIGKILL), so nothing outlives the harness even after an uncaught exception.
 * Signal handling is opt-in (`cleanUpOnSignals`), because only the CLI owns the process.
 *
 * Must not: throw from a cleanup (errors are collected), or run a cleanup twice.
 */

export interface Cleanup {
  /** What is being cleaned up, for messages: "toxiproxy-server pid 123". */
  readonly name: string;
  /** The orderly way: stop, wait, remove. */
  readonly run: () => Promise<void>;
  /** The last resort on process exit, where only synchronous calls run. */
  readonly onExit?: () => void;
}

const registered = new Set<Cleanup>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cleanup of registered) {
      try {
        cleanup.onExit?.();
      } catch {
        // The process is ending; a failed last-resort kill has nowhere to be reported.
      }
    }
  });
}

/** Registers a cleanup; the returned function unregisters it without running it. */
export function registerCleanup(cleanup: Cleanup): () => void {
  installExitHook();
  registered.add(cleanup);
  return () => {
    registered.delete(cleanup);
  };
}

/** Runs every registered cleanup, newest first, and returns the errors it met. */
export async function runCleanups(): Promise<Error[]> {
  const errors: Error[] = [];
  const newestFirst = [...registered].reverse();
  for (const cleanup of newestFirst) {
    registered.delete(cleanup);
    try {
      await cleanup.run();
    } catch (error) {
      errors.push(
        new Error(`cleanup of ${cleanup.name} failed: ${String(error)}`, { cause: error }),
      );
    }
  }
  return errors;
}

export function pendingCleanups(): readonly string[] {
  return [...registered].map((cleanup) => cleanup.name);
}

const stopListeners = new Set<(signal: NodeJS.Signals) => void>();

/**
 * Asks to hear about the first SIGINT or SIGTERM as a request to stop gracefully (the demo
 * stops its stack and exits 0). A second signal still cleans up and ends the process.
 */
export function onStopRequest(listener: (signal: NodeJS.Signals) => void): () => void {
  stopListeners.add(listener);
  return () => {
    stopListeners.delete(listener);
  };
}

/**
 * On SIGINT or SIGTERM, runs every cleanup and then ends the process with 128 + the signal
 * number, unless a stop listener takes the first signal. A second signal while cleaning up
 * ends the process at once (after the synchronous exit hooks). Returns a function that
 * removes the handlers.
 */
export function cleanUpOnSignals(log: (line: string) => void): () => void {
  let cleaning = false;
  const handler = (signal: NodeJS.Signals): void => {
    const exitCode = signal === 'SIGINT' ? 130 : 143;
    if (!cleaning && stopListeners.size > 0) {
      const listeners = [...stopListeners];
      stopListeners.clear();
      for (const listener of listeners) listener(signal);
      return;
    }
    if (cleaning) {
      process.exit(exitCode);
    }
    cleaning = true;
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
