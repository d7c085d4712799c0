import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IdemproofError, describeError } from '../errors.js';
import { registerCleanup } from '../provision/cleanup.js';
import { scenarioFileStat } from './files.js';
import { SCENARIO_LIMITS } from './limits.js';
import { printable } from './printable.js';

/**
 * Evaluates a TypeScript or JavaScript scenario module in a child process and returns only its
 * data. The module is code: it may loop, exit, print, eat memory or throw anything. In the
 * child it can do none of that to the CLI: the child gets SCENARIO_LIMITS.moduleMs, a heap of
 * moduleHeapMb, no stdout, and its message is read from a separate pipe, at most
 * MAX_MESSAGE_BYTES. Whatever goes wrong becomes a scenario error naming the file (exit 2).
 *
 * Must not: import the module in this process, let the child outlive the CLI (it is registered
 * as a cleanup, so SIGINT, SIGTERM and exit kill it), or trust the message beyond JSON.
 */

/** The child's message: 2 MB of JSON (characters, up to 3 bytes each in UTF-8) and an envelope. */
const MAX_MESSAGE_BYTES = 3 * SCENARIO_LIMITS.documentBytes + 65_536;
/** The end of the child's stderr is kept, to tell an out-of-memory death from another. */
const STDERR_TAIL_BYTES = 4_096;
const TYPESCRIPT = new Set(['.ts', '.mts']);

/** The values a module exports (one per scenario), not yet validated. */
export async function evaluateScenarioModule(path: string, file: string): Promise<unknown[]> {
  await scenarioFileStat(path);
  const message = await runChild(path, file);
  return valuesOf(message, file);
}

interface ChildOutcome {
  /** Bytes on the result pipe. */
  readonly message: Buffer;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why the parent stopped the child, if it did. */
  readonly stopped: string | undefined;
  readonly stderrTail: string;
}

function childCommand(path: string): string[] {
  const here = import.meta.url;
  // Under the test runner this file is TypeScript, and so is the child; once built, both are JS.
  const childIsTypeScript = here.endsWith('.ts');
  const child = new URL(`./module-child.${childIsTypeScript ? 'ts' : 'js'}`, here);
  const args = [`--max-old-space-size=${SCENARIO_LIMITS.moduleHeapMb}`];
  if (childIsTypeScript || TYPESCRIPT.has(extname(path))) {
    // tsx as this package resolves it, not as the working directory would.
    args.push('--import', pathToFileURL(createRequire(here).resolve('tsx')).href);
  }
  return [...args, fileURLToPath(child), path];
}

function runChild(path: string, file: string): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childCommand(path), {
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const unregister = registerCleanup({
      name: `scenario module ${printable(file)} (pid ${child.pid ?? '?'})`,
      run: () => Promise.resolve(kill()),
      onExit: kill,
    });
    const chunks: Buffer[] = [];
    let received = 0;
    let stderrTail = '';
    let stopped: string | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let pipeEnded = false;
    let settled = false;

    const stop = (reason: string): void => {
      stopped ??= reason;
      kill();
    };
    const timer = setTimeout(
      () =>
        stop(
          `the module did not export its scenario within ${SCENARIO_LIMITS.moduleMs / 1000} s (it loops or waits), so it was stopped`,
        ),
      SCENARIO_LIMITS.moduleMs,
    );
    const finish = (): void => {
      if (settled || exit === undefined || (!pipeEnded && stopped === undefined)) return;
      settled = true;
      clearTimeout(timer);
      unregister();
      child.stdio[2]?.destroy();
      child.stdio[3]?.destroy();
      child.stdin?.destroy();
      resolve({ message: Buffer.concat(chunks), ...exit, stopped, stderrTail });
    };

    const pipe = child.stdio[3];
    pipe?.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_MESSAGE_BYTES) {
        stop(`the module exported more than ${MAX_MESSAGE_BYTES / 1e6} MB of data`);
        return;
      }
      chunks.push(chunk);
    });
    pipe?.on('end', () => {
      pipeEnded = true;
      // The message is complete: whatever the module left running (a timer) ends here.
      if (received > 0) kill();
      finish();
    });
    pipe?.on('error', () => {
      pipeEnded = true;
      finish();
    });
    child.stdio[2]?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.stdio[2]?.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.on('error', (error) => {
      clearTimeout(timer);
      unregister();
      if (settled) return;
      settled = true;
      reject(
        new IdemproofError(
          'IDEMPROOF_ERR_SCENARIO',
          `${printable(file)}: cannot start the process that evaluates the module: ${printable(describeError(error))}`,
          { cause: error },
        ),
      );
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      finish();
    });
  });
}

/** The child's values, or the scenario error its outcome deserves. */
function valuesOf(outcome: ChildOutcome, file: string): unknown[] {
  const refuse = (why: string): never => {
    throw new IdemproofError('IDEMPROOF_ERR_SCENARIO', `${printable(file)}: ${why}`);
  };
  if (outcome.stopped !== undefined) return refuse(outcome.stopped);
  if (outcome.message.length === 0) {
    if (/heap out of memory|Reached heap limit/.test(outcome.stderrTail)) {
      return refuse(
        `the module used more than ${SCENARIO_LIMITS.moduleHeapMb} MB of memory, so it was stopped`,
      );
    }
    return refuse(
      outcome.signal !== null
        ? `the process evaluating the module was killed by ${outcome.signal} before the module exported a scenario`
        : `the module exited (code ${outcome.code ?? '?'}) before exporting a scenario; a scenario module must not call process.exit`,
    );
  }
  let message: unknown;
  try {
    message = JSON.parse(outcome.message.toString('utf8'));
  } catch {
    return refuse('the module wrote something other than its scenario on the result channel');
  }
  const fields = message !== null && typeof message === 'object' ? message : {};
  if ('error' in fields && typeof fields.error === 'string') return refuse(printable(fields.error));
  if (!('values' in fields) || !Array.isArray(fields.values)) {
    return refuse('the module wrote something other than its scenario on the result channel');
  }
  // A module could write its own message on the channel: bound its depth here too.
  if (deeperThan(fields.values, SCENARIO_LIMITS.depth + 1)) {
    return refuse(`the exported data is nested more than ${SCENARIO_LIMITS.depth} levels deep`);
  }
  return fields.values as unknown[];
}

/** Is plain JSON data nested deeper than `limit`? Iterative: any depth is safe to ask about. */
export function deeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const inner of Object.values(item)) pending.push([inner, depth + 1]);
  }
  return false;
}
