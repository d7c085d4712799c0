import { randomBytes, randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import type { CheckResult } from '../check/types.js';
import { AttemptClient } from '../client/send.js';
import {
  expandDependencyEnv,
  prepareDependencies,
  type DependencySet,
} from '../nemesis/dependencies.js';
import { FlowState } from '../run/hooks.js';
import { IdemproofError, describeError } from '../errors.js';
import type { HistoryEvent } from '../history/events.js';
import { HistoryRecorder } from '../history/recorder.js';
import { createLanes, type LaneSet } from '../nemesis/lanes.js';
import { ToxiproxyApi } from '../nemesis/toxiproxy-api.js';
import { createEffectProbe } from '../probe/probes.js';
import { startToxiproxy } from '../provision/toxiproxy-start.js';
import { createReporters, multiplexReporters } from '../report/registry.js';
import { loadScenarioFile, type LoadedScenario } from '../scenario/load.js';
import { loadProfileOption, overrideNotice } from '../scenario/profile-file.js';
import type { LaneName } from '../scenario/schema.js';
import { executePattern } from '../run/execute.js';
import { redactorFor } from '../run/redaction.js';
import { scrubUrls } from '../history/redact.js';
import { describeLimits, openGate, type StopReason } from '../run/gate.js';
import { buildResult, newRunId, type BlastRadiusOptions } from '../run/run.js';
import {
  assertRunHosts,
  parseTarget,
  preflight,
  preflightVars,
  resolveProfile,
  scenarioResult,
} from '../run/run-scenario.js';
import { resolveTransport, tlsPreludeFor } from '../run/transport.js';
import {
  describeSchedule,
  planSchedule,
  requestCount,
  scheduleArbitrary,
  type Schedule,
  type ScheduleShape,
} from './schedule.js';

/** The model every generated schedule must satisfy: the profile-independent promises. */
export const MODEL_CHECKS = [
  'effectsPerKey',
  'replayIdenticalResponses',
  'conflictOnMismatch',
  'inFlightDuplicates',
  'tenantIsolation',
] as const;

export interface ExploreOptions extends BlastRadiusOptions {
  /** A scenario file; its first scenario is explored. */
  readonly scenario: string;
  readonly target?: string | undefined;
  readonly profile?: string | undefined;
  readonly runs?: number | undefined;
  readonly timeBudgetMs?: number | undefined;
  readonly seed?: number | undefined;
  /** fast-check's counterexample path: with the seed, replays exactly one schedule. */
  readonly path?: string | undefined;
  readonly toxiproxyUrl?: string | undefined;
  readonly reportDir?: string | undefined;
  readonly reporters?: readonly string[] | undefined;
  readonly shape?: Partial<ScheduleShape> | undefined;
  /** How often a shrink candidate is tried before it counts as passing. */
  readonly shrinkRetries?: number | undefined;
  /** How often the final counterexample is run again to say how reliably it fails. */
  readonly reproductions?: number | undefined;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly interactive: boolean;
}

export interface Counterexample {
  readonly schedule: Schedule;
  /** The schedule as numbered sentences. */
  readonly steps: readonly string[];
  readonly requests: number;
  readonly path: string;
  /** Successful shrink steps. */
  readonly shrinks: number;
  /** The run (1-based) that first failed. */
  readonly foundAtRun: number;
  readonly reproduced: { readonly failed: number; readonly of: number };
  /** The checks the last failing reproduction violated, with their first anomaly. */
  readonly violations: readonly { readonly checker: string; readonly message: string }[];
}

export interface ExploreResult {
  readonly scenario: string;
  readonly seed: number;
  /** Schedules tried (shrink steps not included). */
  readonly runs: number;
  readonly interrupted: boolean;
  /** Why the exploration stopped before its runs or time budget were used up, if it did. */
  readonly stopped: StopReason | null;
  readonly counterexample: Counterexample | null;
  readonly replayCommand: string;
  readonly durationMs: number;
  readonly reportDir: string | null;
}

interface RunVerdict {
  readonly failed: CheckResult[];
  readonly history: readonly HistoryEvent[];
}

const DEFAULT_SHAPE: ScheduleShape = {
  keys: 2,
  tenants: 0,
  lanes: ['clean', 'lost-response', 'lost-request'],
  maxSteps: 6,
  maxBurst: 3,
  maxDelayMs: 50,
};

/**
 * Property-based exploration: fast-check draws retry schedules from the scenario, each runs
 * against the real target through the fault lanes with fresh keys, and the checkers judge it.
 * A failure is shrunk by running smaller schedules for real; candidates are retried a bounded
 * number of times (races do not fail every time), and the final counterexample is run again
 * to say how often it reproduces.
 */
export async function explore(options: ExploreOptions): Promise<ExploreResult> {
  const started = performance.now();
  const [loaded] = await loadScenarioFile(options.scenario);
  if (loaded === undefined)
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${options.scenario}: no scenario in the file`,
    );
  const { scenario } = loaded;
  const profile = resolveProfile(
    loaded,
    options.profile === undefined ? undefined : await loadProfileOption(options.profile),
  );
  const notice = options.profile === undefined ? undefined : overrideNotice(scenario.name, profile);
  if (notice !== undefined) options.err(`idemproof: ${notice}`);
  const tenants = Object.keys(scenario.target.tenants);
  const shape: ScheduleShape = {
    ...DEFAULT_SHAPE,
    tenants: Math.min(2, tenants.length),
    ...options.shape,
  };
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const targetBase = (options.target ?? scenario.target.baseUrl).replace(/\/+$/, '');
  const target = parseTarget(targetBase);
  await assertRunHosts([loaded], {
    targetOverride: options.target,
    allowHosts: options.allowHosts ?? [],
    toxiproxyUrl: options.toxiproxyUrl,
  });
  const redactor = redactorFor([loaded], options.target);
  const explorationId = randomBytes(4).toString('hex');

  // Ctrl-C or SIGTERM: stop sending; the schedules left pass without traffic, and the
  // result says the exploration was interrupted.
  const { gate, release } = openGate(options.limits);
  const client = new AttemptClient({ stop: gate.signal, bodyLimit: options.bodyLimit });
  const toxiproxy = await startToxiproxy({ optionUrl: options.toxiproxyUrl }).catch(
    (error: unknown) => {
      release();
      throw error;
    },
  );
  let lanes: LaneSet | undefined;
  let dependencies: DependencySet | undefined;
  try {
    options.err(`idemproof: ${describeLimits(options.limits ?? {})}`);
    if (scenario.effects === undefined)
      throw new IdemproofError('IDEMPROOF_ERR_USAGE', 'explore needs an effect probe (effects)');
    const transport = await resolveTransport(loaded, options.target);
    const effects = createEffectProbe(scenario.effects, {
      targetBase,
      dispatcher: client.probeDispatcher(transport),
      sink: undefined,
      pool: () => {
        throw new IdemproofError(
          'IDEMPROOF_ERR_USAGE',
          'explore counts effects with http probes only for now',
        );
      },
    });
    await preflight(client, targetBase, transport);
    await effects.count(preflightVars(explorationId), []).catch((cause: unknown) => {
      throw new IdemproofError(
        'IDEMPROOF_ERR_PROBE_FAILED',
        `${loaded.file}: the effect probe fails before any traffic: ${describeError(cause)}`,
        { cause },
      );
    });
    const laneRecorder = new HistoryRecorder();
    lanes = await createLanes({
      api: new ToxiproxyApi(toxiproxy.url),
      prefix: `idemproof_${explorationId}_x`,
      upstream: target.upstream,
      lanes: ['clean', ...shape.lanes] as LaneName[],
      slowMs: scenario.faults.slowMs,
      preludeBytes: await tlsPreludeFor(transport, targetBase, shape.lanes),
      recorder: laneRecorder,
      scenario: scenario.name,
    });
    const activeLanes = lanes;
    // The scenario's dependencies, healthy (explore draws lane faults only): their addresses
    // fill {{dependency.NAME}}. A downstream played by the sink needs `idemproof run`.
    dependencies = await prepareDependencies({
      api: new ToxiproxyApi(toxiproxy.url),
      prefix: `idemproof_${explorationId}_x`,
      dependencies: expandDependencyEnv(scenario.dependencies, process.env, loaded.file),
      recorder: laneRecorder,
      scenario: scenario.name,
    });
    const flow = new FlowState();
    Object.assign(flow.scenario, dependencies.variables);

    const runOnce = async (schedule: Schedule): Promise<RunVerdict> => {
      const run = randomBytes(4).toString('hex');
      const recorder = new HistoryRecorder(undefined, {
        redactor,
        requestBodyLimit: options.bodyLimit,
      });
      const plan = planSchedule(schedule, scenario, profile, { run, seed });
      await executePattern(
        {
          scenario,
          targetBase,
          lanes: activeLanes,
          client,
          recorder,
          effects,
          keylessEffects: undefined,
          state: undefined,
          sinkUrl: '',
          flow,
          run,
          onAttempt: () => undefined,
          gate,
          transport,
        },
        plan,
      );
      const result = scenarioResult({
        loaded,
        profile,
        plans: [plan],
        targetBase,
        history: recorder.events,
        started: performance.now(),
        error: null,
      });
      const failed = result.checks.filter(
        (check) =>
          check.valid === false && (MODEL_CHECKS as readonly string[]).includes(check.checker),
      );
      return { failed, history: recorder.events };
    };

    let failuresSeen = 0;
    let schedulesTried = 0;
    const retries = Math.max(1, options.shrinkRetries ?? 3);
    const property = fc.asyncProperty(scheduleArbitrary(shape), async (schedule) => {
      if (gate.stopped !== undefined) return true;
      if (failuresSeen === 0) schedulesTried += 1;
      // Before the first failure one try decides; while shrinking, a candidate gets retries.
      const tries = failuresSeen === 0 ? 1 : retries;
      for (let attempt = 0; attempt < tries; attempt += 1) {
        const verdict = await runOnce(schedule);
        if (verdict.failed.length > 0) {
          failuresSeen += 1;
          return false;
        }
      }
      return true;
    });
    const details = await fc.check(property, {
      numRuns: options.runs ?? 100,
      seed,
      ...(options.path === undefined ? {} : { path: options.path }),
      interruptAfterTimeLimit: options.timeBudgetMs ?? 60_000,
      markInterruptAsFailure: false,
    });

    const replayCommand = (path?: string): string =>
      [
        `idemproof explore ${options.scenario}`,
        `--seed ${details.seed}`,
        ...(path === undefined ? [] : [`--path ${path}`]),
        ...(options.target === undefined ? [] : [`--target ${scrubUrls(options.target)}`]),
        ...(options.profile === undefined ? [] : [`--profile ${options.profile}`]),
      ].join(' ');

    if (!details.failed || details.counterexample === null) {
      return {
        scenario: scenario.name,
        seed: details.seed,
        runs: details.numRuns,
        interrupted: details.interrupted || gate.stopped !== undefined,
        stopped: gate.stopped ?? null,
        counterexample: null,
        replayCommand: replayCommand(),
        durationMs: Math.round(performance.now() - started),
        reportDir: null,
      };
    }

    const [schedule] = details.counterexample;
    const path = details.counterexamplePath ?? '';
    const of = gate.stopped === undefined ? Math.max(1, options.reproductions ?? 5) : 0;
    let reproducedFailures = 0;
    let lastFailure: RunVerdict | undefined;
    for (let index = 0; index < of; index += 1) {
      const verdict = await runOnce(schedule);
      if (verdict.failed.length > 0) {
        reproducedFailures += 1;
        lastFailure = verdict;
      }
    }
    const counterexample: Counterexample = {
      schedule,
      steps: describeSchedule(schedule, tenants),
      requests: requestCount(schedule),
      path,
      shrinks: details.numShrinks,
      foundAtRun: schedulesTried,
      reproduced: { failed: reproducedFailures, of },
      violations: (lastFailure?.failed ?? []).map((check) => ({
        checker: check.checker,
        message: check.anomalies[0]?.message ?? '',
      })),
    };
    const reportDir =
      lastFailure === undefined
        ? null
        : await writeReport(options, loaded, lastFailure, {
            seed: details.seed,
            replay: replayCommand(path),
            targetBase,
            proxyPrefix: `idemproof_${explorationId}`,
            profile,
            schedule,
            startedAt: started,
          });
    return {
      scenario: scenario.name,
      seed: details.seed,
      runs: schedulesTried,
      interrupted: details.interrupted || gate.stopped !== undefined,
      stopped: gate.stopped ?? null,
      counterexample,
      replayCommand: replayCommand(path),
      durationMs: Math.round(performance.now() - started),
      reportDir,
    };
  } finally {
    release();
    await dependencies
      ?.remove()
      .catch((error: unknown) =>
        options.err(`idemproof: could not remove dependency lanes: ${describeError(error)}`),
      );
    await lanes
      ?.remove()
      .catch((error: unknown) =>
        options.err(`idemproof: could not remove fault lanes: ${describeError(error)}`),
      );
    await client.close().catch(() => undefined);
    await toxiproxy.stop();
  }
}

/** The report of one failing reproduction of the counterexample, with every reporter. */
async function writeReport(
  options: ExploreOptions,
  loaded: LoadedScenario,
  failure: RunVerdict,
  facts: {
    seed: number;
    replay: string;
    targetBase: string;
    proxyPrefix: string;
    profile: ReturnType<typeof resolveProfile>;
    schedule: Schedule;
    startedAt: number;
  },
): Promise<string> {
  const runId = newRunId();
  const reportDir = resolve(options.reportDir ?? 'reports', runId);
  await mkdir(reportDir, { recursive: true });
  const recorder = new HistoryRecorder(join(reportDir, 'history.jsonl'));
  for (const event of failure.history) {
    const { index: _index, time: _time, ...rest } = event;
    recorder.append(rest);
  }
  await recorder.close();
  const plan = planSchedule(facts.schedule, loaded.scenario, facts.profile, {
    run: 'report',
    seed: facts.seed,
  });
  const scenario = scenarioResult({
    loaded,
    profile: facts.profile,
    plans: [plan],
    targetBase: facts.targetBase,
    history: failure.history,
    started: facts.startedAt,
    error: null,
  });
  const result = buildResult({
    history: failure.history,
    proxyPrefix: facts.proxyPrefix,
    scenarios: [scenario],
    seed: facts.seed,
    runId,
    reportDir,
    started: new Date(),
    durationMs: performance.now() - facts.startedAt,
    options: {
      paths: [options.scenario],
      out: options.out,
      err: options.err,
      interactive: false,
      replayCommand: () => facts.replay,
    },
  });
  const reporter = multiplexReporters(
    createReporters(options.reporters ?? ['html', 'junit', 'json'], {
      reportDir,
      out: options.out,
      err: (text) => process.stderr.write(text),
      interactive: false,
    }),
    (name, error) => options.err(`idemproof: the ${name} reporter failed: ${describeError(error)}`),
  );
  await reporter.onEnd(result, failure.history);
  return reportDir;
}
