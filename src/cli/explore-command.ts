import { explore, type ExploreResult } from '../explore/explore.js';
import { EXIT_CODES } from './exit-codes.js';
import type { Output } from './output.js';
import {
  parseDuration,
  parseSafety,
  parseSeed,
  parseWholeNumber,
  type SafetyOptions,
} from './parse-options.js';
import { FILE_REPORTERS, reporterOption } from './reporter-option.js';

export interface ExploreCommandOptions extends SafetyOptions {
  readonly target?: string;
  readonly profile?: string;
  readonly runs?: string;
  readonly timeBudget?: string;
  readonly seed?: string;
  readonly path?: string;
  readonly reportDir?: string;
  readonly reporter?: string;
  readonly toxiproxy?: string;
}

/** The outcome in a few lines: the minimal schedule, what it violates, how to replay it. */
export function formatExploreResult(result: ExploreResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const counterexample = result.counterexample;
  if (counterexample === null) {
    const cut =
      result.stopped !== null
        ? ` (stopped early: ${result.stopped.detail})`
        : result.interrupted
          ? ' (stopped by the time budget)'
          : '';
    return [
      `PASS: ${result.runs} generated schedules held every promise of the model${cut} · ${seconds} s`,
      `seed ${result.seed} · replay: ${result.replayCommand}`,
    ].join('\n');
  }
  return [
    `FAIL: schedule ${counterexample.foundAtRun} broke the model; shrunk ${counterexample.shrinks} times to ${counterexample.requests} request(s) · ${seconds} s`,
    '',
    'Smallest failing schedule:',
    ...counterexample.steps.map((step) => `  ${step}`),
    '',
    `It failed ${counterexample.reproduced.failed} of ${counterexample.reproduced.of} times when run again.`,
    ...counterexample.violations.map((violation) => `✗ ${violation.checker}: ${violation.message}`),
    '',
    `replay: ${result.replayCommand}`,
    ...(result.reportDir === null ? [] : [`report: ${result.reportDir}/index.html`]),
  ].join('\n');
}

/** `idemproof explore <scenario>`: returns the exit code. */
export async function exploreCommand(
  scenario: string,
  options: ExploreCommandOptions,
  output: Output,
): Promise<number> {
  const result = await explore({
    scenario,
    target: options.target,
    profile: options.profile,
    runs:
      options.runs === undefined ? undefined : parseWholeNumber('--runs', options.runs, 1, 100_000),
    timeBudgetMs:
      options.timeBudget === undefined
        ? undefined
        : parseDuration('--time-budget', options.timeBudget),
    seed: parseSeed(options.seed),
    path: options.path,
    reportDir: options.reportDir,
    reporters: reporterOption(options.reporter, FILE_REPORTERS) ?? [...FILE_REPORTERS],
    toxiproxyUrl: options.toxiproxy,
    ...parseSafety(options),
    out: output.result,
    err: output.error,
    interactive: process.stderr.isTTY,
  });
  output.result(formatExploreResult(result));
  if (result.stopped?.kind === 'interrupted')
    return result.stopped.signal === 'SIGTERM' ? EXIT_CODES.terminated : EXIT_CODES.interrupted;
  if (result.stopped?.kind === 'crashed') return EXIT_CODES.internal;
  return result.counterexample === null ? EXIT_CODES.ok : EXIT_CODES.violation;
}
