import { spawn } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { withDeadline } from '../client/deadline.js';
import { IdemproofError } from '../errors.js';
import type { HistoryRecorder } from '../history/recorder.js';
import type { ProcessCommands } from '../scenario/schema-chaos.js';

/**
 * The process nemesis: crashes the target and starts it again with the scenario's `process`
 * commands (run with `sh -c` in the scenario's folder or `process.cwd`), then waits until it
 * serves again (`ready.url` answers 2xx, `ready.command` exits 0, or by default the target's
 * base URL answers at all). Each step is recorded as a `process` event with a one-line detail;
 * a start that never gets ready is an error naming the scenario, the command and its output.
 *
 * Must not: run anything but the scenario's own commands, wait beyond its timeouts (kill and
 * start 30 s each, readiness `ready.timeoutMs`), keep more than OUTPUT_LIMIT bytes of a
 * command's output, or hold a pipe to a process the command leaves running (output goes
 * through a file, so a server started in the background never writes into a closed pipe).
 */

/** The longest kill or start may run. */
export const COMMAND_TIMEOUT_MS = 30_000;
/** The tail of a command's output kept for the report. */
export const OUTPUT_LIMIT = 4096;
/** The longest one readiness GET may take. */
const READY_REQUEST_TIMEOUT_MS = 2000;

export interface CommandResult {
  /** null when the command was stopped by a signal or its timeout. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The last OUTPUT_LIMIT bytes of stdout and stderr, interleaved as written. */
  readonly output: string;
  readonly ms: number;
}

/**
 * Runs `command` with `sh -c` in its own process group; on timeout the group is killed. The
 * command may leave processes running in the background (a server it starts): it is over
 * when `sh` exits, not when every holder of its output has gone.
 */
export async function runCommand(
  command: string,
  options: { readonly cwd: string; readonly timeoutMs: number },
): Promise<CommandResult> {
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'idemproof-process-'));
  const file = join(dir, 'output');
  const handle = await open(file, 'w+');
  try {
    const outcome = await new Promise<{ code: number | null; timedOut: boolean }>((resolve) => {
      const child = spawn('sh', ['-c', command], {
        cwd: options.cwd,
        detached: true,
        stdio: ['ignore', handle.fd, handle.fd],
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, options.timeoutMs);
      child.once('error', () => {
        clearTimeout(timer);
        resolve({ code: null, timedOut });
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, timedOut });
      });
    });
    return {
      exitCode: outcome.code,
      timedOut: outcome.timedOut,
      output: await tailOf(handle),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await handle.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function tailOf(handle: Awaited<ReturnType<typeof open>>): Promise<string> {
  const { size } = await handle.stat();
  const length = Math.min(size, OUTPUT_LIMIT);
  const buffer = Buffer.alloc(length);
  await handle.read(buffer, 0, length, size - length);
  return buffer.toString('utf8').trim();
}

/** "kill -9 4242: exit 0 in 3 ms" */
export function commandDetail(command: string, result: CommandResult): string {
  const outcome = result.timedOut
    ? `timed out after ${result.ms} ms`
    : `exit ${result.exitCode ?? 'by signal'} in ${result.ms} ms`;
  return `${command}: ${outcome}`;
}

export interface ReadyOutcome {
  readonly ready: boolean;
  readonly tries: number;
  readonly ms: number;
}

/**
 * Asks `check` every `intervalMs` until it says ready or `timeoutMs` has passed; at most
 * timeoutMs / intervalMs + 2 tries, whatever the clock does. A check that throws is not ready.
 */
export async function waitReady(
  check: () => Promise<boolean>,
  options: {
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly now?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
  },
): Promise<ReadyOutcome> {
  const now = options.now ?? (() => performance.now());
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  const maxTries = Math.ceil(options.timeoutMs / options.intervalMs) + 2;
  for (let tries = 1; tries <= maxTries; tries += 1) {
    if (await check().catch(() => false))
      return { ready: true, tries, ms: Math.round(now() - started) };
    const left = started + options.timeoutMs - now();
    if (left <= 0 || tries === maxTries)
      return { ready: false, tries, ms: Math.round(now() - started) };
    await sleep(Math.min(options.intervalMs, left));
  }
  return { ready: false, tries: maxTries, ms: Math.round(now() - started) };
}

/** A GET of `url` answers: with `success`, a 2xx; otherwise any status at all. */
export function httpReadiness(
  url: string,
  success: boolean,
  dispatcher?: Dispatcher,
): () => Promise<boolean> {
  return async () => {
    const status = await withDeadline(READY_REQUEST_TIMEOUT_MS, async (signal) => {
      const answer = await request(url, {
        method: 'GET',
        signal,
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
      await answer.body.dump();
      return answer.statusCode;
    });
    return !success || (status >= 200 && status < 300);
  };
}

/** `command` exits 0 (each try bounded by the readiness timeout). */
export function commandReadiness(
  command: string,
  cwd: string,
  timeoutMs: number,
): () => Promise<boolean> {
  return async () => (await runCommand(command, { cwd, timeoutMs })).exitCode === 0;
}

export interface ProcessControlOptions {
  readonly commands: ProcessCommands;
  /** Where the commands run: `process.cwd` resolved against the scenario's folder. */
  readonly cwd: string;
  /** The target's base URL: the default readiness check, and the base of a relative ready.url. */
  readonly targetBase: string;
  readonly dispatcher?: Dispatcher | undefined;
  readonly recorder: HistoryRecorder;
  readonly scenario: string;
}

export interface ProcessControl {
  /**
   * Crashes the target (the kill command); `moment` says when, for the record. A kill that
   * fails is recorded, not thrown (the target may be down already).
   */
  kill(pattern: string, moment: string): Promise<void>;
  /** Starts the target and waits until it is ready; throws when it never gets ready. */
  start(pattern: string): Promise<void>;
}

/** The target's crash and restart, from the scenario's commands. */
export function createProcessControl(options: ProcessControlOptions): ProcessControl {
  const { commands, cwd, recorder, scenario } = options;
  const { ready } = commands;
  const record = (
    pattern: string,
    action: 'kill' | 'start' | 'ready' | 'not-ready',
    detail: string,
  ): void => {
    recorder.append({ type: 'process', scenario, action, pattern, detail });
  };
  const readyUrl =
    ready.url === undefined
      ? undefined
      : /^https?:\/\//i.test(ready.url)
        ? ready.url
        : `${options.targetBase}/${ready.url.replace(/^\/+/, '')}`;
  const check =
    ready.command !== undefined
      ? commandReadiness(ready.command, cwd, Math.max(1000, ready.timeoutMs))
      : httpReadiness(readyUrl ?? options.targetBase, readyUrl !== undefined, options.dispatcher);
  const readiness =
    ready.command !== undefined
      ? `\`${ready.command}\` exits 0`
      : readyUrl !== undefined
        ? `GET ${readyUrl} answers 2xx`
        : `${options.targetBase} answers`;

  const notReady = (why: string, output: string): IdemproofError =>
    new IdemproofError(
      'IDEMPROOF_ERR_TARGET_UNREACHABLE',
      `scenario '${scenario}': the target did not get ready after \`${commands.start}\`: ${why}${output === '' ? '' : `; its output:\n${output}`}`,
    );

  return {
    async kill(pattern, moment) {
      const result = await runCommand(commands.kill, { cwd, timeoutMs: COMMAND_TIMEOUT_MS });
      record(pattern, 'kill', `${commandDetail(commands.kill, result)} (${moment})`);
    },
    async start(pattern) {
      const result = await runCommand(commands.start, { cwd, timeoutMs: COMMAND_TIMEOUT_MS });
      record(pattern, 'start', commandDetail(commands.start, result));
      if (result.timedOut || result.exitCode !== 0) {
        record(pattern, 'not-ready', `${commands.start} failed`);
        throw notReady(commandDetail(commands.start, result), result.output);
      }
      const outcome = await waitReady(check, ready);
      if (!outcome.ready) {
        const why = `${readiness} not within ${ready.timeoutMs} ms (${outcome.tries} tries)`;
        record(pattern, 'not-ready', why);
        throw notReady(why, result.output);
      }
      record(pattern, 'ready', `${readiness} after ${outcome.ms} ms (${outcome.tries} tries)`);
    },
  };
}
