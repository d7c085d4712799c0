import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IdemproofError, describeError } from '../errors.js';
import type { HistoryEvent } from '../history/events.js';
import { attemptCount } from '../plan/schedule.js';
import { RESULTS_JSON_FILE } from '../report/json.js';
import { createReporters, multiplexReporters } from '../report/registry.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { RunResult, ScenarioResult } from './result.js';
import { HISTORY_FILE, readHistory, readRunFile, writeRunFile, type RunFile } from './run-file.js';
import { planFor, resolveProfile, scenarioResult } from './run-scenario.js';
import { consumerPublishCount } from '../consumer/plan.js';
import { consumerScenarioResult, planConsumer } from '../consumer/run.js';
import { buildResult, DEFAULT_REPORTERS, newRunId, type RunOutcome } from './run.js';
import { shardPlans } from './shard.js';

interface OutputOptions {
  /**
   * Reporter names; default: the ones the run used. A function receives those and returns
   * the names to use (the CLI adds `github` inside GitHub Actions).
   */
  readonly reporters?:
    readonly string[] | ((recorded: readonly string[]) => readonly string[]) | undefined;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly interactive: boolean;
}

export interface RebuildOptions extends OutputOptions {
  readonly reportDir: string;
}

/** A rebuilt run, and whether it finished (wrote its results) before it ended. */
export interface RebuildOutcome extends RunOutcome {
  /**
   * False for a run that ended before writing its reports (killed, machine gone): it is
   * reported as crashed, rebuilt from what it recorded.
   */
  readonly finished: boolean;
}

export interface MergeOptions extends OutputOptions {
  /** The shards' run folders, in any order. */
  readonly runDirs: readonly string[];
  /** Where the merged run folder goes. */
  readonly outDir: string;
}

/** What a run folder records: the plan, the events, and the results if it wrote them. */
interface RunRecords {
  readonly run: RunFile;
  readonly history: HistoryEvent[];
  /** The part of results.json the history cannot tell: errors, stop reason, durations. */
  readonly previous: Pick<RunResult, 'durationMs' | 'stopped' | 'scenarios'> | undefined;
}

async function readRecords(reportDir: string, warn: (line: string) => void): Promise<RunRecords> {
  const run = await readRunFile(reportDir);
  const history = await readHistory(reportDir, warn);
  let previous: RunResult | undefined;
  try {
    previous = JSON.parse(await readFile(join(reportDir, RESULTS_JSON_FILE), 'utf8')) as RunResult;
  } catch {
    previous = undefined;
  }
  return { run, history, previous };
}

/** How a rebuilt run that never finished says so; also how a later rebuild recognises it. */
const UNFINISHED = 'the run ended before writing its reports (killed or crashed)';

/** Did the run finish? Not when it left no results, or only those of an earlier rebuild. */
function finished(previous: RunRecords['previous']): boolean {
  const stopped = previous?.stopped ?? null;
  return (
    previous !== undefined &&
    !(stopped?.kind === 'crashed' && stopped.detail.startsWith(UNFINISHED))
  );
}

function span(events: readonly HistoryEvent[]): number {
  if (events.length === 0) return 0;
  return Math.max(0, (events.at(-1)?.time ?? 0) - (events[0]?.time ?? 0));
}

/**
 * The run's result from its records, the way the run builds it: the checks run again on the
 * recorded history. A run that died before writing results.json is reported as crashed.
 */
function resultFromRecords(
  records: RunRecords,
  reportDir: string,
  options: OutputOptions,
): RunResult {
  const { run, history, previous } = records;
  // A profile file is rebuilt from run.json, not read again (it may have changed since).
  const profileOverride = run.resolvedProfile ?? run.profile ?? undefined;
  let planned = 0;
  const scenarios: ScenarioResult[] = [];
  for (const [index, { file, scenario, profileFile }] of run.scenarios.entries()) {
    // A scenario's own profile file too: from run.json, as the run loaded it.
    const loaded: LoadedScenario = { file, scenario, profileFile };
    const plans = shardPlans(
      planFor(loaded, {
        ...{ seed: run.seed, run: run.run, profileOverride, index },
        repeat: run.repeat ?? 1,
      }),
      index,
      run.shard,
    );
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
  for (const [offset, { file, scenario }] of (run.consumers ?? []).entries()) {
    const loaded = { file, scenario };
    const plans = planConsumer(loaded, {
      seed: run.seed,
      run: run.run,
      index: run.scenarios.length + offset,
    });
    planned += consumerPublishCount(plans);
    const events = history.filter((event) => event.scenario === scenario.name);
    const before = previous?.scenarios.find((entry) => entry.name === scenario.name);
    if (before === undefined && (previous !== undefined || events.length === 0)) continue;
    scenarios.push(
      consumerScenarioResult({
        loaded,
        plans,
        history: events,
        target: before?.target ?? scenario.consumer.broker,
        durationMs: before?.durationMs ?? span(events),
        error: before?.error ?? null,
      }),
    );
  }
  const requestsSent = history.filter(
    (event) =>
      event.type === 'invoke' ||
      event.type === 'publish' ||
      event.type === 'hook' ||
      (event.type === 'probe' && event.source === 'http'),
  ).length;
  const stopped: RunResult['stopped'] =
    previous === undefined
      ? {
          kind: 'crashed',
          detail: `${UNFINISHED}; rebuilt from ${join(reportDir, HISTORY_FILE)}`,
          attemptsPlanned: planned,
          requestsSent,
        }
      : (previous.stopped ?? null);
  return buildResult({
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
      profile: run.profile ?? undefined,
      shard: run.shard ?? undefined,
      repeat: run.repeat ?? 1,
      out: options.out,
      err: options.err,
      interactive: options.interactive,
    },
    stopped,
  });
}

async function writeReports(
  result: RunResult,
  history: readonly HistoryEvent[],
  recorded: readonly string[] | null,
  options: OutputOptions,
): Promise<void> {
  const ran = recorded ?? DEFAULT_REPORTERS;
  const reporters =
    typeof options.reporters === 'function' ? options.reporters(ran) : (options.reporters ?? ran);
  const reporter = multiplexReporters(
    createReporters(reporters, {
      reportDir: result.reportDir,
      out: options.out,
      err: (text) => process.stderr.write(text),
      interactive: options.interactive,
    }),
    (name, error) => options.err(`idemproof: the ${name} reporter failed: ${describeError(error)}`),
  );
  await reporter.onEnd(result, history);
}

/**
 * `idemproof report <run-dir>`: rebuilds every report of a run from its `run.json` and
 * `history.jsonl`. A run that died before writing its reports (killed, crashed) is reported
 * as crashed with everything it recorded; otherwise its own stop reason and scenario errors
 * are kept from its results.json.
 *
 * Must not: change history.jsonl or run.json, or send any traffic.
 */
export async function rebuildReports(options: RebuildOptions): Promise<RebuildOutcome> {
  const records = await readRecords(options.reportDir, options.err);
  const result = resultFromRecords(records, options.reportDir, options);
  await writeReports(result, records.history, records.run.reporters ?? null, options);
  return { result, history: records.history, finished: finished(records.previous) };
}

/** Refuses shards that are not one whole run: other seeds or scenarios, missing or twice. */
function checkShards(all: readonly { dir: string; records: RunRecords }[]): void {
  const fail = (message: string): never => {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', `report merge: ${message}`);
  };
  const [first] = all;
  if (first === undefined) return fail('name the run folders of the shards to merge');
  const names = (records: RunRecords): string =>
    records.run.scenarios.map(({ scenario }) => scenario.name).join('\n');
  const total = first.records.run.shard?.total ?? 1;
  const seen = new Map<number, string>();
  for (const { dir, records } of all) {
    const { shard } = records.run;
    if (records.run.seed !== first.records.run.seed)
      fail(`${dir} ran seed ${records.run.seed}, ${first.dir} seed ${first.records.run.seed}`);
    if (names(records) !== names(first.records))
      fail(`${dir} ran other scenarios than ${first.dir}`);
    if ((shard?.total ?? 1) !== total)
      fail(`${dir} is a shard of ${shard?.total ?? 1}, ${first.dir} of ${total}`);
    const index = shard?.index ?? 1;
    const twice = seen.get(index);
    if (twice !== undefined) fail(`${dir} and ${twice} are both shard ${index}/${total}`);
    seen.set(index, dir);
  }
  const missing = Array.from({ length: total }, (_unused, i) => i + 1).filter(
    (index) => !seen.has(index),
  );
  if (missing.length > 0)
    fail(
      `shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${total}`).join(', ')} missing`,
    );
}

/**
 * `idemproof report merge <run-dirs…>`: joins the run folders of `--shard 1/n … n/n` into one
 * run folder with one history (events renumbered, shard by shard), and writes every report
 * from it, as if one machine had run the whole plan. The merged folder can be rebuilt with
 * `idemproof report` like any other.
 *
 * Must not: merge shards of different seeds or scenarios, or merge with a shard missing.
 */
export async function mergeReports(options: MergeOptions): Promise<RebuildOutcome> {
  const shards = await Promise.all(
    options.runDirs.map(async (dir) => ({
      dir,
      records: await readRecords(resolve(dir), options.err),
    })),
  );
  checkShards(shards);
  shards.sort((a, b) => (a.records.run.shard?.index ?? 1) - (b.records.run.shard?.index ?? 1));
  const [first] = shards;
  if (first === undefined)
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', 'report merge: nothing to merge');

  const history: HistoryEvent[] = [];
  for (const { records } of shards)
    for (const event of records.history) history.push({ ...event, index: history.length });
  const allFinished = shards.every(({ records }) => finished(records.previous));
  const previous: RunRecords['previous'] = allFinished
    ? {
        durationMs: Math.max(...shards.map(({ records }) => records.previous?.durationMs ?? 0)),
        stopped:
          shards
            .map(({ records }) => records.previous?.stopped ?? null)
            .find((stop) => stop !== null) ?? null,
        scenarios: shards
          .flatMap(({ records }) => records.previous?.scenarios ?? [])
          .sort(
            // A shard's error about a scenario wins over another shard's success.
            (a, b) => Number(b.error !== null) - Number(a.error !== null),
          ),
      }
    : undefined;

  const reportDir = resolve(options.outDir);
  await mkdir(reportDir, { recursive: true });
  const run: RunFile = { ...first.records.run, runId: `merged-${newRunId()}`, shard: null };
  await writeRunFile(reportDir, run);
  await writeFile(
    join(reportDir, HISTORY_FILE),
    history.map((event) => `${JSON.stringify(event)}\n`).join(''),
  );
  const result = resultFromRecords({ run, history, previous }, reportDir, options);
  await writeReports(result, history, run.reporters ?? null, options);
  return { result, history, finished: allFinished };
}
