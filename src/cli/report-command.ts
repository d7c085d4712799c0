import { join, resolve } from 'node:path';
import { IdemproofError } from '../errors.js';
import { mergeReports, rebuildReports } from '../run/rebuild.js';
import { newRunId } from '../run/run.js';
import type { Output } from './output.js';
import { exitCodeOf, parseReporters } from './run-command.js';

export interface ReportCommandOptions {
  readonly reporter?: string;
  readonly out?: string;
}

/**
 * `idemproof report <run-dir>` rebuilds a run's reports from run.json and history.jsonl;
 * `idemproof report merge <run-dirs…>` joins the folders of `--shard 1/n … n/n` into one.
 * Returns the exit code the (merged) run would have had.
 */
export async function reportCommand(
  args: readonly string[],
  options: ReportCommandOptions,
  output: Output,
): Promise<number> {
  const common = {
    reporters: parseReporters(options.reporter),
    out: output.result,
    err: output.error,
    interactive: process.stderr.isTTY,
  };
  if (args[0] === 'merge') {
    const outcome = await mergeReports({
      ...common,
      runDirs: args.slice(1),
      outDir: resolve(options.out ?? join('reports', `merged-${newRunId()}`)),
    });
    return exitCodeOf(outcome);
  }
  if (args.length !== 1 || options.out !== undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      'report: give one run folder to rebuild, or `merge` and the folders of every shard (with --out)',
    );
  }
  const outcome = await rebuildReports({ ...common, reportDir: resolve(args[0] ?? '') });
  return exitCodeOf(outcome);
}
