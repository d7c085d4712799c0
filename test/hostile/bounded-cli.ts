import { spawn } from 'node:child_process';
import { BIN, type CliResult } from '../support/cli.js';

/**
 * Runs the built CLI like `runCli`, but never for longer than `ms`: past it the process gets
 * SIGKILL and the result has code null. A hostile-input test whose guarantee breaks then fails
 * instead of leaving a hung CLI behind.
 */
export function runCliWithin(
  ms: number,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      ...(cwd === undefined ? {} : { cwd }),
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `runCliWithin` with the limit fixed, for a test file whose calls share one. */
export function cliWithin(
  ms: number,
): (args: readonly string[], env?: NodeJS.ProcessEnv, cwd?: string) => Promise<CliResult> {
  return (args, env = {}, cwd) => runCliWithin(ms, args, env, cwd);
}
