import { SINK_UPSTREAM } from '../scenario/schema-chaos.js';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { mergeDefects } from '../check/defects.js';
import { mergeValidity, type Validity } from '../check/types.js';
import { AttemptClient } from '../client/send.js';
import { IdemproofError, describeError } from '../errors.js';
import type { HistoryEvent } from '../history/events.js';
import { HistoryRecorder } from '../history/recorder.js';
import { scrubUrls } from '../history/redact.js';
import { ToxiproxyApi } from '../nemesis/toxiproxy-api.js';
import { MAX_REPEAT } from '../plan/repeat.js';
import { attemptCount } from '../plan/schedule.js';
import { startSink, type Sink } from '../probe/sink.js';
import { startToxiproxy } from '../provision/toxiproxy-start.js';
import { createReporters, multiplexReporters } from '../report/registry.js';
import type { ReportContext } from '../report/types.js';
import { printable } from '../scenario/load.js';
import { loadSuiteFiles } from '../consumer/load.js';
import { consumerPublishCount } from '../consumer/plan.js';
import { assertConsumerHosts, planConsumer, runConsumerScenario } from '../consumer/run.js';
import { loadProfileOption, profileNotices } from '../scenario/profile-file.js';
import { PACKAGE_ROOT } from '../provision/tools-dir.js';
import { readFileSync } from 'node:fs';
import { RESULT_SCHEMA_VERSION, type RunResult, type ScenarioResult } from './result.js';
import { describeLimits, openGate, type TrafficLimits } from './gate.js';
import { assertRunHosts, planFor, runScenario } from './run-scenario.js';
import { assertEnvSet } from '../scenario/env-refs.js';
import { shardPlans, type Shard } from './shard.js';
import type { PatternPlan } from '../plan/schedule.js';
import type { LoadedScenario } from '../scenario/load.js';
import { redactedScenario, redactorFor } from './redaction.js';
import { HISTORY_FILE, RUN_FILE_VERSION, writeRunFile } from './run-file.js';

/** What keeps a run's traffic within bounds; run, explore and certify take the same. */
export interface BlastRadiusOptions {
  /** Blast-radius limits: request rate, total requests, duration. */
  readonly limits?: TrafficLimits | undefined;
  /** Hosts outside loopback that may be sent to (besides each scenario's target.allowHosts). */
  readonly allowHosts?: readonly string[] | undefined;
  /** Bytes of each request and response body kept (default 256 KiB); the digest covers all. */
  readonly bodyLimit?: number | undefined;
  /**
   * Bytes the run's history may take (default 256 MiB): at 90 % the run stops as at a limit,
   * so the run folder stays within it.
   */
  readonly maxReportBytes?: number | undefined;
}

export interface RunOptions extends BlastRadiusOptions {
  /** Scenario files or folders. */
  readonly paths: readonly string[];
  /**
   * Scenarios already loaded and validated (`run()` passes these); when set, they are run
   * instead of loading `paths`, which then only name the run in run.json and the replay command.
   */
  readonly scenarios?: readonly LoadedScenario[] | undefined;
  /** Overrides every scenario's base URL. */
  readonly target?: string | undefined;
  /** Overrides every scenario's profile. */
  readonly profile?: string | undefined;
  readonly seed?: number | undefined;
  /** Folder that receives `<run-id>/`; default `reports`. */
  readonly reportDir?: string | undefined;
  /** Reporter names; default terminal, html, junit, json. */
  readonly reporters?: readonly string[] | undefined;
  readonly toxiproxyUrl?: string | undefined;
  /** Writes a line of results (stdout). */
  readonly out: (text: string) => void;
  /** Writes a line of diagnostics (stderr). */
  readonly err: (text: string) => void;
  /** Writes raw progress text, e.g. a bar redrawn with \r (default: stderr). */
  readonly progress?: (text: string) => void;
  /** Is stderr a terminal, so a live progress bar may be drawn? */
  readonly interactive: boolean;
  /** The command that replays this run, given its seed (default: the matching `idemproof run`). */
  readonly replayCommand?: (seed: number) => string;
  /** Run only this shard's patterns (`--shard i/n`). */
  readonly shard?: Shard | undefined;
  /** Run the plan this many times (1 to MAX_REPEAT), each with fresh keys (`--repeat`). */
  readonly repeat?: number | undefined;
}

export interface RunOutcome {
  readonly result: RunResult;
  readonly history: readonly HistoryEvent[];
}

export const DEFAULT_REPORTERS = ['terminal', 'html', 'junit', 'json'] as const;

function toolVersion(): string {
  return (
    JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

/** `--repeat`: a whole number from 1 to MAX_REPEAT (default 1), else a usage error. */
export function checkedRepeat(repeat: number | undefined): number {
  if (repeat === undefined) return 1;
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `--repeat must be a whole number from 1 to ${MAX_REPEAT}, got ${repeat}`,
    );
  }
  return repeat;
}

/** A sortable, unique run id: 20261124-061502-3fa9. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** `value` as one shell word, quoted only when it needs to be (for printed command lines). */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs scenario files end to end: load and validate all of them (nothing starts on a bad
 * file), plan, find or start Toxiproxy, run each scenario through its fault lanes while the
 * history streams to disk, check, and hand the result to the reporters.
 */
export async function runSuite(options: RunOptions): Promise<RunOutcome> {
  const suite =
    options.scenarios === undefined
      ? // A code file beside the scenarios is never executed; say which were left out.
        await loadSuiteFiles(options.paths, ({ file, reason }) =>
          options.err(`idemproof: skipped ${printable(file)}: ${reason}`),
        )
      : { http: [...options.scenarios], consumers: [] };
  const loaded = suite.http;
  const consumers = suite.consumers;
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const runId = newRunId();
  const run = randomBytes(4).toString('hex');
  // Validate every plan and host before any traffic: a template error or a host nobody
  // allowed is a usage error (exit 2), and nothing has started.
  const repeat = checkedRepeat(options.repeat);
  // --profile: a built-in name or a profile file; the scenarios' overrides win over it.
  const profile =
    options.profile === undefined ? undefined : await loadProfileOption(options.profile);
  for (const line of profileNotices(loaded, profile)) options.err(`idemproof: ${line}`);
  for (const [index, scenario] of loaded.entries())
    planFor(scenario, { seed, run, profileOverride: profile, index, repeat });
  assertEnvSet(loaded);
  await assertRunHosts(loaded, {
    targetOverride: options.target,
    allowHosts: options.allowHosts ?? [],
    toxiproxyUrl: options.toxiproxyUrl,
  });

  await assertConsumerHosts(consumers, options.allowHosts ?? []);

  const reportDir = resolve(options.reportDir ?? 'reports', runId);
  const context: ReportContext = {
    reportDir,
    out: options.out,
    err: options.progress ?? ((text) => process.stderr.write(text)),
    interactive: options.interactive,
  };
  const reporter = multiplexReporters(
    createReporters(options.reporters ?? DEFAULT_REPORTERS, context),
    (name, error) => options.err(`idemproof: the ${name} reporter failed: ${describeError(error)}`),
  );
  await mkdir(reportDir, { recursive: true }).catch((error: unknown) => {
    throw new IdemproofError(
      'IDEMPROOF_ERR_REPORT',
      `cannot create the report folder ${reportDir}: ${describeError(error)}`,
    );
  });

  const limits = options.limits ?? {};
  // With --shard, only this shard's patterns: a scenario with none of them is left out.
  const shardOf = (scenario: LoadedScenario, index: number): PatternPlan[] =>
    shardPlans(
      planFor(scenario, { seed, run, profileOverride: profile, index, repeat }),
      index,
      options.shard,
    );
  const consumerPlans = consumers.map((scenario, index) =>
    planConsumer(scenario, { seed, run, index: loaded.length + index }),
  );
  const planned =
    loaded.reduce((sum, scenario, index) => sum + attemptCount(shardOf(scenario, index)), 0) +
    consumerPlans.reduce((sum, plans) => sum + consumerPublishCount(plans), 0);
  if (limits.maxRequests !== undefined && planned > limits.maxRequests) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `the plan sends ${planned} requests (and effect probes), more than --max-requests ${limits.maxRequests}: raise the cap or run fewer patterns`,
    );
  }
  const redactor = redactorFor(loaded, options.target);
  const recorder = new HistoryRecorder(join(reportDir, HISTORY_FILE), {
    redactor,
    requestBodyLimit: options.bodyLimit,
    budgetBytes: options.maxReportBytes,
    onBudget: (detail) => gate.stop({ kind: 'limit', limit: 'max-report-size', detail }),
  });
  await writeRunFile(reportDir, {
    schemaVersion: RUN_FILE_VERSION,
    runId,
    startedAt: new Date().toISOString(),
    seed,
    run,
    paths: options.paths,
    target: options.target === undefined ? null : redactor.scrub(options.target),
    profile: options.profile ?? null,
    resolvedProfile: profile ?? null,
    reporters: options.reporters ?? DEFAULT_REPORTERS,
    shard: options.shard ?? null,
    repeat,
    scenarios: loaded.map(({ file, scenario, profileFile }) => ({
      file,
      scenario: redactedScenario(scenario, redactor),
      ...(profileFile === undefined ? {} : { profileFile }),
    })),
    consumers: consumers.map(({ file, scenario }) => ({
      file,
      scenario: JSON.parse(redactor.scrub(JSON.stringify(scenario))) as typeof scenario,
    })),
  });
  options.err(`idemproof: run ${runId} (${reportDir}); ${describeLimits(limits)}`);
  const started = new Date();
  const startedAt = performance.now();
  const scenarios: ScenarioResult[] = [];
  // Ctrl-C, SIGTERM or a crash: stop sending, remove the lanes, report what was recorded.
  const { gate, release } = openGate(limits);
  const client = new AttemptClient({ stop: gate.signal, bodyLimit: options.bodyLimit });
  const pools = new Map<string, pg.Pool>();
  const poolFor = (connectionString: string): pg.Pool => {
    let pool = pools.get(connectionString);
    if (pool === undefined) {
      pool = new pg.Pool({ connectionString, max: 4 });
      pool.on('error', () => undefined);
      pools.set(connectionString, pool);
    }
    return pool;
  };
  let sink: Sink | undefined;
  let toxiproxy: Awaited<ReturnType<typeof startToxiproxy>> | undefined;
  try {
    toxiproxy = await startToxiproxy({ optionUrl: options.toxiproxyUrl });
    const api = new ToxiproxyApi(toxiproxy.url);
    if (
      loaded.some(
        ({ scenario }) =>
          (scenario.effects !== undefined && 'sink' in scenario.effects) ||
          (scenario.keylessEffects !== undefined && 'sink' in scenario.keylessEffects) ||
          Object.values(scenario.dependencies).some(
            (dependency) => dependency.upstream === SINK_UPSTREAM,
          ),
      ) ||
      consumers.some(({ scenario }) => 'sink' in scenario.effects)
    ) {
      sink = await startSink();
    }
    const total = planned;
    reporter.onStart?.({ runId, scenarios: loaded.length + consumers.length, total });
    let done = 0;
    for (const [index, scenario] of loaded.entries()) {
      if (gate.stopped !== undefined) break;
      if (shardOf(scenario, index).length === 0) continue;
      scenarios.push(
        await runScenario(scenario, {
          index,
          seed,
          run,
          shard: options.shard,
          repeat,
          targetOverride: options.target,
          profileOverride: profile,
          api,
          recorder,
          client,
          probes: {
            sink,
            pool: poolFor,
          },
          onAttempt: () => {
            done += 1;
            reporter.onProgress?.({ scenario: scenario.scenario.name, done, total });
          },
          gate,
        }),
      );
    }
    for (const [offset, consumer] of consumers.entries()) {
      if (gate.stopped !== undefined) break;
      if (
        options.shard !== undefined &&
        (loaded.length + offset) % options.shard.total !== options.shard.index - 1
      )
        continue;
      scenarios.push(
        await runConsumerScenario(consumer, {
          index: loaded.length + offset,
          seed,
          run,
          api,
          recorder,
          gate,
          probes: { sink, pool: poolFor },
          onAttempt: () => {
            done += 1;
            reporter.onProgress?.({ scenario: consumer.scenario.name, done, total });
          },
        }),
      );
    }
  } finally {
    release();
    await client.close().catch(() => undefined);
    await sink?.close();
    await Promise.all([...pools.values()].map((pool) => pool.end().catch(() => undefined)));
    await toxiproxy?.stop();
    await recorder
      .close()
      .catch((error: unknown) =>
        options.err(`idemproof: history.jsonl was not fully written: ${describeError(error)}`),
      );
  }

  const result = buildResult({
    history: recorder.events,
    proxyPrefix: `idemproof_${run}`,
    scenarios,
    seed,
    runId,
    reportDir,
    started,
    durationMs: performance.now() - startedAt,
    options,
    stopped:
      gate.stopped === undefined
        ? null
        : { ...gate.stopped, attemptsPlanned: planned, requestsSent: gate.requests },
  });
  await reporter.onEnd(result, recorder.events);
  return { result, history: recorder.events };
}

/** The whole run's result, from its scenarios and history. */
export function buildResult(input: {
  history: readonly HistoryEvent[];
  proxyPrefix: string;
  scenarios: readonly ScenarioResult[];
  seed: number;
  runId: string;
  reportDir: string;
  started: Date;
  durationMs: number;
  options: RunOptions;
  stopped?: RunResult['stopped'];
}): RunResult {
  const { scenarios, options } = input;
  const stopped = input.stopped ?? null;
  const repeat = options.repeat ?? 1;
  const checks = scenarios.flatMap((scenario) => scenario.checks);
  // A run cut short cannot pass: what ran may still show a violation.
  const valid = scenarios.reduce<Validity>(
    (merged, scenario) => mergeValidity(merged, scenario.valid),
    stopped === null ? true : 'unknown',
  );
  const lanes = new Map<string, string>([['clean', 'none']]);
  for (const event of input.history)
    if (event.type === 'fault') lanes.set(event.lane, event.toxics);
  const command =
    options.replayCommand?.(input.seed) ??
    [
      'idemproof run',
      ...options.paths.map(shellWord),
      `--seed ${input.seed}`,
      ...(options.target === undefined ? [] : [`--target ${shellWord(options.target)}`]),
      ...(options.profile === undefined ? [] : [`--profile ${shellWord(options.profile)}`]),
      ...(options.shard === undefined
        ? []
        : [`--shard ${options.shard.index}/${options.shard.total}`]),
      ...(repeat === 1 ? [] : [`--repeat ${repeat}`]),
    ].join(' ');
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'idemproof', version: toolVersion() },
    runId: input.runId,
    startedAt: input.started.toISOString(),
    durationMs: Math.round(input.durationMs),
    seed: input.seed,
    replayCommand: scrubUrls(command),
    reportDir: input.reportDir,
    proxyPrefix: input.proxyPrefix,
    valid,
    counts: {
      scenarios: scenarios.length,
      checks: checks.length,
      passed: checks.filter((check) => check.valid === true).length,
      failed: checks.filter((check) => check.valid === false).length,
      unknown: checks.filter((check) => check.valid === 'unknown').length,
    },
    lanes: [...lanes].map(([name, toxics]) => ({ name, toxics })),
    repeat,
    defects: mergeDefects(
      scenarios.map((scenario) => ({ scenario: scenario.name, defects: scenario.defects ?? [] })),
    ),
    stopped,
    scenarios,
  };
}
