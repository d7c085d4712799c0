import { join, resolve } from 'node:path';
import { IdemproofError } from '../errors.js';
import { mergeReports, rebuildReports, type RebuildOutcome } from '../run/rebuild.js';
import { newRunId } from '../run/run.js';
import { EXIT_CODES } from './exit-codes.js';
import type { Output } from './output.js';
import { parseReporters, reporterOption } from './reporter-option.js';
import { exitCodeOf } from './run-command.js';

export interface ReportCommandOptions {
  readonly reporter?: string;
  readonly out?: string;
}

/**
 * `idemproof report <run-dir>` rebuilds a run's reports from run.json and history.jsonl;
 * `idemproof report merge <run-dirs…>` joins the folders of `--shard 1/n … n/n` into one.
 * Returns the exit code the (merged) run would have had, except for a run that did not finish
 * (killed before writing its reports): 6, not the 4 of a crash inside idemproof.
 */
export async function reportCommand(
  args: readonly string[],
  options: ReportCommandOptions,
  output: Output,
): Promise<number> {
  parseReporters(options.reporter); // a bad --reporter is a usage error before anything is read
  const common = {
    // The run's own reporters, or --reporter; plus github inside GitHub Actions, as for `run`.
    reporters: (recorded: readonly string[]) =>
      reporterOption(options.reporter, recorded) ?? recorded,
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
    return reportExitCode(outcome);
  }
  if (args.length !== 1 || options.out !== undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      'report: give one run folder to rebuild, or `merge` and the folders of every shard (with --out)',
    );
  }
  const outcome = await rebuildReports({ ...common, reportDir: resolve(args[0] ?? '') });
  return reportExitCode(outcome);
}

/** As for the run itself, but a run that never finished gets its own code (6). */
function reportExitCode(outcome: RebuildOutcome): number {
  const code = exitCodeOf(outcome);
  return !outcome.finished && code === EXIT_CODES.internal ? EXIT_CODES.unfinished : code;
}
