import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { HistoryEvent } from '../history/events.js';
import { attemptCount } from '../plan/schedule.js';
import { RESULTS_JSON_FILE } from '../report/json.js';
import { createReporters, multiplexReporters } from '../report/registry.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { RunResult, ScenarioResult } from './result.js';
import { readHistory, readRunFile } from './run-file.js';
import { planFor, resolveProfile, scenarioResult } from './run-scenario.js';
import { buildResult, DEFAULT_REPORTERS, type RunOutcome } from './run.js';

export interface RebuildOptions {
  readonly reportDir: string;
  /** Reporter names; default: the ones the run used. */
  readonly reporters?: readonly string[] | undefined;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly interactive: boolean;
}

/** results.json of the run, when it got that far; undefined otherwise. */
async function previousResult(reportDir: string): Promise<RunResult | undefined> {
  try {
    return JSON.parse(await readFile(join(reportDir, RESULTS_JSON_FILE), 'utf8')) as RunResult;
  } catch {
    return undefined;
  }
}

function span(events: readonly HistoryEvent[]): number {
  if (events.length === 0) return 0;
  return Math.max(0, (events.at(-1)?.time ?? 0) - (events[0]?.time ?? 0));
}

/**
 * `idemproof report <run-dir>`: rebuilds every report of a run from its `run.json` and
 * `history.jsonl`, the same way the run builds them: the checks run again on the recorded
 * history. A run that died before writing its reports (killed, crashed) is reported as
 * crashed with everything it recorded; otherwise the run's own stop reason and scenario
 * errors are kept from its results.json.
 *
 * Must not: change history.jsonl or run.json, or send any traffic.
 */
export async function rebuildReports(options: RebuildOptions): Promise<RunOutcome> {
  const { reportDir } = options;
  const run = await readRunFile(reportDir);
  const history = await readHistory(reportDir, options.err);
  const previous = await previousResult(reportDir);
  const profileOverride = run.profile ?? undefined;

  let planned = 0;
  const scenarios: ScenarioResult[] = [];
  for (const { file, scenario } of run.scenarios) {
    const loaded: LoadedScenario = { file, scenario };
    const plans = planFor(loaded, { seed: run.seed, run: run.run, profileOverride });
    planned += attemptCount(plans);
    const events = history.filter((event) => event.scenario === scenario.name);
    const before = previous?.scenarios.find((entry) => entry.name === scenario.name);
    // Scenarios the run never reached are left out, as the run itself leaves them out.
    if (before === undefined && (previous !== undefined || events.length === 0)) continue;
    const durationMs = before?.durationMs ?? span(events);
    scenarios.push(
      scenarioResult({
        loaded,
        profile: resolveProfile(loaded, profileOverride),
        plans,
        targetBase: (run.target ?? scenario.target.baseUrl).replace(/\/+$/, ''),
        history: events,
        started: performance.now() - durationMs,
        error: before?.error ?? null,
      }),
    );
  }

  const requestsSent = history.filter(
    (event) => event.type === 'invoke' || (event.type === 'probe' && event.source === 'http'),
  ).length;
  const stopped: RunResult['stopped'] =
    previous === undefined
      ? {
          kind: 'crashed',
          detail: `the run ended before writing its reports (killed or crashed); rebuilt from ${reportDir}/history.jsonl`,
          attemptsPlanned: planned,
          requestsSent,
        }
      : (previous.stopped ?? null);

  const result = buildResult({
    history,
    proxyPrefix: `idemproof_${run.run}`,
    scenarios,
    seed: run.seed,
    runId: run.runId,
    reportDir,
    started: new Date(run.startedAt),
    durationMs: previous?.durationMs ?? span(history),
    options: {
      paths: run.paths,
      target: run.target ?? undefined,
      profile: profileOverride,
      out: options.out,
      err: options.err,
      interactive: options.interactive,
    },
    stopped,
  });
  const reporter = multiplexReporters(
    createReporters(options.reporters ?? run.reporters ?? DEFAULT_REPORTERS, {
      reportDir,
      out: options.out,
      err: (text) => process.stderr.write(text),
      interactive: options.interactive,
    }),
    (name, error) => options.err(`idemproof: the ${name} reporter failed: ${describeError(error)}`),
  );
  await reporter.onEnd(result, history);
  return { result, history };
}
