import { IdemproofError } from '../errors.js';
import { loadScenarioSources, type ScenarioSource } from '../scenario/load.js';
import { runSuite, type RunOptions, type RunOutcome } from './run.js';

/**
 * What `run()` takes besides the scenarios: every `runSuite` option, all optional.
 *
 * Defaults: no output (`out`, `err` and `progress` do nothing, `interactive: false`), the
 * `json` reporter only (`<reportDir>/<run-id>/results.json`, beside the `run.json` and
 * `history.jsonl` every run writes, so `idemproof report <run-dir>` can add the HTML page
 * later), `reportDir: 'reports'`, a random seed, Toxiproxy found as the CLI finds it.
 */
export type RunScenariosOptions = Partial<Omit<RunOptions, 'paths' | 'scenarios'>>;

/** run()'s default reporters: results.json only; the terminal and the HTML page are opt-in. */
export const LIBRARY_REPORTERS = ['json'] as const;

function isSourceList(
  scenarios: ScenarioSource | readonly ScenarioSource[],
): scenarios is readonly ScenarioSource[] {
  return Array.isArray(scenarios);
}

/**
 * Runs scenarios from a program or a test: scenario objects (`defineScenario({...})`), scenario
 * files or folders, or a list mixing them. Objects are validated exactly as files are (the
 * errors name the scenario), then everything runs as `idemproof run` would: plan, fault lanes
 * through Toxiproxy, effect probes, checks, reports.
 *
 * Resolves with the result and the history whatever the verdict (`result.valid` is `true`,
 * `false` or `'unknown'`); rejects with an `IdemproofError` on a usage or scenario error, or an
 * infrastructure error that stops the whole run (Toxiproxy not found…).
 */
export async function run(
  scenarios: ScenarioSource | readonly ScenarioSource[],
  options: RunScenariosOptions = {},
): Promise<RunOutcome> {
  const sources = isSourceList(scenarios) ? scenarios : [scenarios];
  if (sources.length === 0) {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', 'run() needs at least one scenario');
  }
  const paths = sources.filter((source) => typeof source === 'string');
  const inline = paths.length < sources.length;
  const quiet = (): void => undefined;
  return runSuite({
    out: quiet,
    err: quiet,
    progress: quiet,
    interactive: false,
    reporters: LIBRARY_REPORTERS,
    // Scenario objects have no command line: say how to run the same plan again from code.
    ...(inline ? { replayCommand: (seed: number) => `run(scenarios, { seed: ${seed} })` } : {}),
    ...withoutUndefined(options),
    paths,
    scenarios: await loadScenarioSources(sources),
  });
}

/** The options that were given, so `{ reporters: undefined }` keeps the default. */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
