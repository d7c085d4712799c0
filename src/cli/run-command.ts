import { DEFAULT_REPORTERS, runSuite, type RunOutcome } from '../run/run.js';
import { parseShard } from '../run/shard.js';
import { EXIT_CODES } from './exit-codes.js';
import type { Output } from './output.js';
import { reporterOption } from './reporter-option.js';
import { parseRepeat, parseSafety, parseSeed, type SafetyOptions } from './parse-options.js';

export interface RunCommandOptions extends SafetyOptions {
  readonly target?: string;
  readonly profile?: string;
  readonly seed?: string;
  readonly reportDir?: string;
  readonly reporter?: string;
  readonly toxiproxy?: string;
  readonly shard?: string;
  readonly repeat?: string;
}

export { parseReporters } from './reporter-option.js';

/** The reporters of `idemproof run`, by the rule every command follows (`reporterOption`). */
export function runReporters(
  value: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] | undefined {
  return reporterOption(value, DEFAULT_REPORTERS, env);
}

/**
 * The exit code a finished run deserves: interrupted 130 (SIGINT) or 143 (SIGTERM), crashed 4,
 * violations 1, stopped at a limit 5, a scenario error 2 or 3, else 0.
 */
export function exitCodeOf(outcome: RunOutcome): number {
  const stopped = outcome.result.stopped ?? null;
  if (stopped?.kind === 'interrupted')
    return stopped.signal === 'SIGTERM' ? EXIT_CODES.terminated : EXIT_CODES.interrupted;
  if (stopped?.kind === 'crashed') return EXIT_CODES.internal;
  if (outcome.result.valid === false) return EXIT_CODES.violation;
  if (stopped?.kind === 'limit') return EXIT_CODES.limit;
  if (outcome.result.scenarios.some((scenario) => scenario.error !== null)) {
    const usage = outcome.result.scenarios.some(
      (scenario) =>
        scenario.error?.code === 'IDEMPROOF_ERR_USAGE' ||
        scenario.error?.code === 'IDEMPROOF_ERR_SCENARIO',
    );
    return usage ? EXIT_CODES.usage : EXIT_CODES.infrastructure;
  }
  return EXIT_CODES.ok;
}

/** `idemproof run <scenario files or folders…>`: returns the exit code. */
export async function runCommand(
  paths: string[],
  options: RunCommandOptions,
  output: Output,
): Promise<number> {
  const outcome = await runSuite({
    paths,
    target: options.target,
    profile: options.profile,
    seed: parseSeed(options.seed),
    repeat: parseRepeat(options.repeat),
    reportDir: options.reportDir,
    reporters: runReporters(options.reporter),
    toxiproxyUrl: options.toxiproxy,
    ...parseSafety(options),
    shard: options.shard === undefined ? undefined : parseShard(options.shard),
    out: output.result,
    err: output.error,
    interactive: process.stderr.isTTY,
  });
  for (const scenario of outcome.result.scenarios) {
    if (scenario.error !== null)
      output.error(
        `idemproof: scenario '${scenario.name}' stopped early: ${scenario.error.message} (${scenario.error.code})`,
      );
  }
  return exitCodeOf(outcome);
}
