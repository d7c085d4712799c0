import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';

export const BIN = join(PACKAGE_ROOT, 'dist', 'cli', 'bin.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built CLI (`node dist/cli/bin.js …`) to the end, in `cwd` if given. With
 * `withinMs`, never for longer: past it the process gets SIGKILL and the result has code null,
 * so a test whose guarantee breaks fails instead of leaving a hung CLI behind.
 */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
  withinMs?: number,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      ...(cwd === undefined ? {} : { cwd }),
    });
    let stdout = '';
    let stderr = '';
    const timer =
      withinMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), withinMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `runCli` with a time limit fixed, for a test file whose calls share one. */
export function cliWithin(
  ms: number,
): (args: readonly string[], env?: NodeJS.ProcessEnv, cwd?: string) => Promise<CliResult> {
  return (args, env = {}, cwd) => runCli(args, env, cwd, ms);
}

/** What a run folder holds after a run with every reporter, sorted. */
export const RUN_FOLDER_FILES = [
  'history.jsonl',
  'index.html',
  'junit.xml',
  'results.json',
  'run.json',
] as const;
