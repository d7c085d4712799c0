import { resolve } from 'node:path';
import { rebuildReports } from '../run/rebuild.js';
import type { Output } from './output.js';
import { exitCodeOf, parseReporters } from './run-command.js';

export interface ReportCommandOptions {
  readonly reporter?: string;
}

/**
 * `idemproof report <run-dir>`: rebuilds the run's reports from run.json and history.jsonl;
 * returns the exit code the run itself would have had.
 */
export async function reportCommand(
  runDir: string,
  options: ReportCommandOptions,
  output: Output,
): Promise<number> {
  const outcome = await rebuildReports({
    reportDir: resolve(runDir),
    reporters: parseReporters(options.reporter),
    out: output.result,
    err: output.error,
    interactive: process.stderr.isTTY,
  });
  return exitCodeOf(outcome);
}
