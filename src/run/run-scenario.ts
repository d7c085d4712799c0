import { SINK_UPSTREAM } from '../scenario/schema-chaos.js';
import { groupDefects } from '../check/defects.js';
import { runChecks } from '../check/index.js';
import { mergeValidity, type CheckResult, type Validity } from '../check/types.js';
import { IdemproofError, describeError, isIdemproofError } from '../errors.js';
import type { AttemptClient, TransportOptions } from '../client/send.js';
import { tlsAdvice } from '../client/tls-errors.js';
import type { HistoryEvent } from '../history/events.js';
import type { HistoryRecorder } from '../history/recorder.js';
import { scrubUrls } from '../history/redact.js';
import { dirname, resolve } from 'node:path';
import { createLanes, type LaneSet } from '../nemesis/lanes.js';
import { createProcessControl } from '../nemesis/process.js';
import type { ToxiproxyApi } from '../nemesis/toxiproxy-api.js';
import {
  expandDependencyEnv,
  prepareDependencies,
  type DependencySet,
} from '../nemesis/dependencies.js';
import { planScenario } from '../plan/plan.js';
import { repeatPlans } from '../plan/repeat.js';
import type { PatternPlan } from '../plan/schedule.js';
import {
  createEffectProbe,
  createStateProbe,
  expandEnv,
  sinkDownstream,
  type ProbeResources,
} from '../probe/probes.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { Profile } from '../scenario/profile.js';
import { isProfilePath, withScenarioOverrides } from '../scenario/profile-file.js';
import { hookSteps } from '../scenario/schema-flow.js';
import {
  countingProbe,
  type EffectProbeSpec,
  type LaneName,
  type StateProbeSpec,
} from '../scenario/schema.js';
import {
  assertHostsAllowed,
  assertHostsAllowedByName,
  hostOfUrl,
  hostsOfConnectionString,
  type HostLookup,
  type HostUse,
} from './blast-radius.js';
import { executePattern } from './execute.js';
import { FlowState, withScenarioHooks } from './hooks.js';
import type { TrafficGate } from './gate.js';
import { shardPlans, type Shard } from './shard.js';
import type { ScenarioResult, TransportSummary } from './result.js';
import { countAttempts, summariseLatency, summarisePatterns } from './summary.js';
import { resolveTransport, summariseTransport, tlsPreludeFor } from './transport.js';

export interface ScenarioRunOptions {
  readonly index: number;
  readonly seed: number;
  /** Short random id that makes keys fresh and prefixes proxies. */
  readonly run: string;
  readonly targetOverride: string | undefined;
  /** `--profile`: a built-in name, or a loaded profile (a file); the scenario's overrides win. */
  readonly profileOverride: string | Profile | undefined;
  readonly api: ToxiproxyApi;
  readonly recorder: HistoryRecorder;
  readonly client: AttemptClient;
  readonly probes: Omit<ProbeResources, 'targetBase'>;
  readonly onAttempt: () => void;
  readonly gate: TrafficGate;
  /** Run only this shard's patterns. */
  readonly shard?: Shard | undefined;
  /** Run the plan this many times, each with fresh keys (`--repeat`; default 1). */
  readonly repeat?: number | undefined;
}

/**
 * Every host a scenario's traffic reaches: its target, HTTP probes with absolute URLs (a
 * relative one goes to the target), and SQL probes' servers. With `env` undefined, SQL
 * connection strings that need a variable are skipped (names only, for `validate`);
 * otherwise a variable that is not set is a usage error.
 */
export function scenarioHosts(
  loaded: LoadedScenario,
  targetOverride: string | undefined,
  env: NodeJS.ProcessEnv | undefined,
): HostUse[] {
  const { scenario, file } = loaded;
  const uses = [hostOfUrl(targetOverride ?? scenario.target.baseUrl, 'target', file)];
  const probes: [string, EffectProbeSpec | StateProbeSpec | undefined][] = [
    ['effect probe', countingProbe(scenario.effects)],
    ['keyless effect probe', scenario.keylessEffects],
    ['state probe', scenario.state],
  ];
  for (const step of hookSteps(scenario)) {
    if (/^https?:\/\//i.test(step.path))
      uses.push(hostOfUrl(step.path.replace(/\{\{\s*\w+\s*\}\}/g, 'x'), 'hook', file));
  }
  const readyUrl = scenario.process?.ready.url;
  if (readyUrl !== undefined && /^https?:\/\//i.test(readyUrl))
    uses.push(hostOfUrl(readyUrl, 'process readiness URL', file));
  for (const [name, dependency] of Object.entries(scenario.dependencies)) {
    const addresses = { listen: dependency.listen, upstream: dependency.upstream };
    for (const [field, address] of Object.entries(addresses)) {
      // The sink is idemproof's own, on loopback.
      if (field === 'upstream' && address === SINK_UPSTREAM) continue;
      const value = env === undefined ? address : sqlUrl(address, env, `${file}: ${name}`);
      if (value === undefined || /\$\{/.test(value)) continue;
      uses.push(hostOfUrl(`tcp://${value}`, `dependency ${name} (${field})`, file));
    }
  }
  for (const [what, probe] of probes) {
    if (probe === undefined) continue;
    if ('http' in probe && /^https?:\/\//i.test(probe.http.url))
      uses.push(hostOfUrl(probe.http.url.replace(/\{\{\s*\w+\s*\}\}/g, 'x'), what, file));
    if ('sql' in probe) {
      const url = sqlUrl(probe.sql.url, env, `${file}: the ${what} (SQL)`);
      if (url !== undefined) uses.push(...hostsOfConnectionString(url, `${what} (SQL)`, env));
    }
  }
  return uses;
}

function sqlUrl(
  template: string,
  env: NodeJS.ProcessEnv | undefined,
  where: string,
): string | undefined {
  if (env === undefined) return /\$\{/.test(template) ? undefined : template;
  try {
    return expandEnv(template, env);
  } catch (error) {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', `${where}: ${describeError(error)}`);
  }
}

/**
 * Refuses (exit 2) a scenario whose target or probes name a host outside loopback that
 * nobody allowed, by spelling alone (no DNS): what `validate` checks. A run checks more,
 * with `assertRunHosts`.
 */
export function assertScenarioHosts(
  loaded: LoadedScenario,
  targetOverride: string | undefined,
  allowHosts: readonly string[],
): void {
  assertHostsAllowedByName(
    scenarioHosts(loaded, targetOverride, undefined),
    [...allowHosts, ...loaded.scenario.target.allowHosts],
    loaded.file,
  );
}

export interface RunHostsOptions {
  readonly targetOverride: string | undefined;
  /** `--allow-host`; each scenario's target.allowHosts adds to it for that scenario. */
  readonly allowHosts: readonly string[];
  /** `--toxiproxy` (else TOXIPROXY_URL is checked): allowed by `--allow-host` only. */
  readonly toxiproxyUrl: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly lookup?: HostLookup;
}

/**
 * The preflight of run, explore and certify: every host the run will touch (each scenario's
 * target, HTTP and SQL probes, and the Toxiproxy server named by option or environment) is
 * allowed or resolves only to loopback, before any traffic. The sink needs no check: idemproof
 * hosts it on 127.0.0.1.
 */
export async function assertRunHosts(
  loaded: readonly LoadedScenario[],
  options: RunHostsOptions,
): Promise<void> {
  const env = options.env ?? process.env;
  for (const entry of loaded) {
    await assertHostsAllowed(
      scenarioHosts(entry, options.targetOverride, env),
      [...options.allowHosts, ...entry.scenario.target.allowHosts],
      entry.file,
      options.lookup,
    );
  }
  // The server `startToxiproxy` would use: the option, else TOXIPROXY_URL.
  const option = options.toxiproxyUrl?.trim();
  const [where, named] = option
    ? ['--toxiproxy', option]
    : ['TOXIPROXY_URL', env.TOXIPROXY_URL?.trim()];
  if (named) {
    const url = /^[a-z]+:\/\//i.test(named) ? named : `http://${named}`;
    await assertHostsAllowed(
      [hostOfUrl(url, 'Toxiproxy server', where)],
      options.allowHosts,
      where,
      options.lookup,
    );
  }
}

/**
 * The profile a scenario is judged by: `--profile` (a built-in name or a loaded profile file)
 * wins over the scenario's `profile:` (a built-in name, or the profile file the loader read
 * relative to the scenario), which wins over the default; the scenario's `overrides` win over
 * all of them.
 */
export function resolveProfile(
  loaded: LoadedScenario,
  profileOverride: string | Profile | undefined,
): Profile {
  const base = profileOverride ?? loaded.profileFile ?? loaded.scenario.profile;
  if (typeof base === 'string' && isProfilePath(base)) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${loaded.file}: the profile file '${base}' the scenario names was not loaded; load the scenario with loadScenarioFile`,
    );
  }
  return withScenarioOverrides(base, loaded.scenario.overrides);
}

export function planFor(
  loaded: LoadedScenario,
  options: Pick<ScenarioRunOptions, 'seed' | 'run' | 'profileOverride' | 'repeat'> & {
    /** The scenario's place in the run: keeps its keys apart from the other scenarios'. */
    readonly index?: number;
  },
): PatternPlan[] {
  try {
    const profile = resolveProfile(loaded, options.profileOverride);
    return repeatPlans(options.repeat ?? 1, options.run, (run) =>
      planScenario(loaded.scenario, profile, {
        seed: options.seed,
        run,
        scenarioIndex: options.index ?? 0,
      }),
    );
  } catch (error) {
    if (isIdemproofError(error)) throw error;
    throw new IdemproofError('IDEMPROOF_ERR_SCENARIO', `${loaded.file}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * Runs one scenario: checks that the target and the effect probe answer, creates its fault
 * lanes, carries out every pattern, removes the lanes, and checks the history. A failure part
 * way is kept as the scenario's error; what was recorded before it is still checked.
 */
export async function runScenario(
  loaded: LoadedScenario,
  options: ScenarioRunOptions,
): Promise<ScenarioResult> {
  const { scenario, file } = loaded;
  const started = performance.now();
  const profile = resolveProfile(loaded, options.profileOverride);
  const plans = shardPlans(planFor(loaded, options), options.index, options.shard);
  const targetBase = (options.targetOverride ?? scenario.target.baseUrl).replace(/\/+$/, '');
  let error: ScenarioResult['error'] = null;
  let lanes: LaneSet | undefined;
  let dependencies: DependencySet | undefined;
  let transport: TransportOptions | undefined;
  try {
    const target = parseTarget(targetBase);
    transport = await resolveTransport(loaded, options.targetOverride);
    const resources: ProbeResources = {
      ...options.probes,
      targetBase,
      dispatcher: options.client.probeDispatcher(transport),
    };
    options.probes.sink?.program(sinkDownstream(scenario), (call) =>
      options.recorder.append({ type: 'downstream', scenario: scenario.name, ...call }),
    );
    const effects =
      scenario.effects === undefined ? undefined : createEffectProbe(scenario.effects, resources);
    if (!(await options.gate.admit(effects?.source === 'http' ? 2 : 1))) return stoppedResult();
    await preflight(options.client, targetBase, transport);
    // Before the first probe reading: templates may name a dependency's address.
    dependencies = await dependenciesFor(loaded, options);
    const flow = new FlowState();
    Object.assign(flow.scenario, dependencies?.variables);
    const probeFirst = async (captured: Readonly<Record<string, string>>): Promise<void> => {
      await effects?.count({ ...preflightVars(options.run), ...captured }, []).catch((cause) => {
        throw new IdemproofError(
          'IDEMPROOF_ERR_PROBE_FAILED',
          `${file}: the effect probe fails before any traffic: ${describeError(cause)}`,
          { cause },
        );
      });
    };
    // A probe may name what setup hooks capture (a token, say): it is tried after them.
    const setupFirst = scenario.hooks.setup.length > 0;
    if (!setupFirst) await probeFirst(flow.scenario);
    lanes = await createLanes({
      api: options.api,
      prefix: `idemproof_${options.run}_s${options.index}`,
      upstream: target.upstream,
      lanes: lanesUsed(plans),
      slowMs: scenario.faults.slowMs,
      preludeBytes: await tlsPreludeFor(transport, targetBase, lanesUsed(plans)),
      recorder: options.recorder,
      scenario: scenario.name,
    });
    const runtime = {
      scenario,
      targetBase,
      lanes,
      dependencies,
      client: options.client,
      recorder: options.recorder,
      effects,
      keylessEffects:
        scenario.keylessEffects === undefined
          ? undefined
          : createEffectProbe(scenario.keylessEffects, resources),
      state: scenario.state === undefined ? undefined : createStateProbe(scenario.state, resources),
      sinkUrl: options.probes.sink?.url ?? 'http://127.0.0.1:9/no-sink',
      run: options.run,
      onAttempt: options.onAttempt,
      gate: options.gate,
      transport,
      flow,
      process:
        scenario.process === undefined
          ? undefined
          : createProcessControl({
              commands: scenario.process,
              cwd: resolve(dirname(file), scenario.process.cwd ?? '.'),
              targetBase,
              dispatcher: resources.dispatcher,
              recorder: options.recorder,
              scenario: scenario.name,
            }),
    };
    await withScenarioHooks(runtime, runtime.flow, async () => {
      if (setupFirst) await probeFirst(runtime.flow.scenario);
      await forEachConcurrently(plans, scenario.concurrency, (plan) =>
        executePattern(runtime, plan),
      );
    });
    if (options.gate.stopped === undefined)
      assertSomeAnswer(options.recorder.events, scenario.name, targetBase);
  } catch (caught) {
    const scrub = (text: string): string => options.recorder.redactor.scrub(text);
    error = isIdemproofError(caught)
      ? { code: caught.code, message: scrub(caught.message) }
      : { code: 'IDEMPROOF_ERR_INTERNAL', message: scrub(describeError(caught)) };
  } finally {
    options.probes.sink?.program(undefined);
    await dependencies?.remove().catch((caught: unknown) => {
      error ??= {
        code: 'IDEMPROOF_ERR_TOXIPROXY_API',
        message: options.recorder.redactor.scrub(
          `could not heal or remove dependency lanes: ${describeError(caught)}`,
        ),
      };
    });
    if (lanes !== undefined) {
      await lanes.remove().catch((caught: unknown) => {
        error ??= {
          code: 'IDEMPROOF_ERR_TOXIPROXY_API',
          message: options.recorder.redactor.scrub(
            `could not remove fault lanes: ${describeError(caught)}`,
          ),
        };
      });
    }
  }

  return stoppedResult();

  function stoppedResult(): ScenarioResult {
    const history = options.recorder.events.filter((event) => event.scenario === scenario.name);
    const shown = options.recorder.redactor.scrub(targetBase);
    return scenarioResult({
      ...{ loaded, profile, plans, targetBase: shown, history, started, error },
      transport: transport === undefined ? null : summariseTransport(transport),
    });
  }
}

/** The scenario's dependency proxies, adopted or created; none when it declares none. */
async function dependenciesFor(
  loaded: LoadedScenario,
  options: ScenarioRunOptions,
): Promise<DependencySet | undefined> {
  const declared = loaded.scenario.dependencies;
  if (Object.keys(declared).length === 0) return undefined;
  return prepareDependencies({
    api: options.api,
    prefix: `idemproof_${options.run}_s${options.index}`,
    dependencies: expandDependencyEnv(declared, process.env, loaded.file),
    recorder: options.recorder,
    scenario: loaded.scenario.name,
    sinkAddress:
      options.probes.sink === undefined ? undefined : new URL(options.probes.sink.url).host,
  });
}

/**
 * A scenario none of whose attempts got an answer proved nothing: the target is down, too
 * slow for the timeout, or not speaking HTTP. That is an infrastructure error (exit 3) that
 * says what happened, not a PASS.
 */
function assertSomeAnswer(
  events: readonly HistoryEvent[],
  scenario: string,
  targetBase: string,
): void {
  let attempts = 0;
  const failures = new Map<string, number>();
  for (const event of events) {
    if (event.scenario !== scenario) continue;
    if (event.type === 'ok') return;
    if (event.type === 'invoke') attempts += 1;
    if (event.type === 'fail' || event.type === 'info')
      failures.set(event.error.code, (failures.get(event.error.code) ?? 0) + 1);
  }
  if (attempts === 0) return;
  const what = [...failures].map(([code, count]) => `${count} × ${code}`).join(', ');
  throw new IdemproofError(
    'IDEMPROOF_ERR_TARGET_UNREACHABLE',
    `target ${targetBase} answered none of ${attempts} attempts (${what}); nothing could be checked`,
  );
}

/** Checks a scenario's history and sums it up. */
export function scenarioResult(input: {
  readonly loaded: LoadedScenario;
  readonly profile: Profile;
  readonly plans: readonly PatternPlan[];
  readonly targetBase: string;
  readonly history: readonly HistoryEvent[];
  /** performance.now() when the scenario started. */
  readonly started: number;
  readonly error: ScenarioResult['error'];
  /** How attempts reached the target (null: not known). */
  readonly transport?: TransportSummary | null;
}): ScenarioResult {
  const { history, profile, error } = input;
  const checks: CheckResult[] = runChecks(history, { profile, plans: input.plans });
  let valid: Validity = checks.reduce<Validity>(
    (merged, check) => mergeValidity(merged, check.valid),
    true,
  );
  if (error !== null) valid = mergeValidity(valid, 'unknown');
  return {
    name: input.loaded.scenario.name,
    file: input.loaded.file,
    target: scrubUrls(input.targetBase),
    profile,
    valid,
    patterns: summarisePatterns(input.plans, history),
    checks,
    defects: groupDefects({ checks, history }),
    attempts: countAttempts(history),
    latency: summariseLatency(history),
    durationMs: Math.round(performance.now() - input.started),
    error,
    transport: input.transport ?? null,
  };
}

/**
 * Runs `work` on every item, at most `limit` at a time, in order of start. After a failure no
 * new item starts; the running ones finish; then the first error is thrown.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
}

function lanesUsed(plans: readonly PatternPlan[]): LaneName[] {
  const lanes = new Set<LaneName>(['clean']);
  for (const plan of plans) {
    for (const step of plan.steps) {
      if (step.kind === 'send') lanes.add(step.lane);
      if (step.kind === 'burst') for (const send of step.sends) lanes.add(send.lane);
    }
  }
  return [...lanes];
}

export function parseTarget(base: string): { upstream: string } {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', `target '${base}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `target '${base}': only http:// and https:// targets can go through fault lanes`,
    );
  }
  // Toxiproxy relays TCP: TLS passes through the lanes untouched, end to end.
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return { upstream: `${url.hostname}:${port}` };
}

export function preflightVars(run: string): {
  key: string;
  tenant: string;
  marker: string;
  resource: string;
  run: string;
  n: string;
  sink: string;
} {
  return {
    key: `idemproof-preflight-${run}`,
    tenant: '',
    marker: `preflight-${run}`,
    resource: `preflight-${run}`,
    run,
    n: '0',
    sink: '',
  };
}

/** Any HTTP answer from the target's base URL (over its transport) means it is reachable. */
export async function preflight(
  client: AttemptClient,
  targetBase: string,
  transport?: TransportOptions,
): Promise<void> {
  const result = await client.send({
    url: targetBase,
    method: 'GET',
    headers: [],
    body: null,
    timeoutMs: 5000,
    freshConnection: true,
    transport,
  });
  if (result.kind === 'error') {
    throw new IdemproofError(
      'IDEMPROOF_ERR_TARGET_UNREACHABLE',
      `target ${targetBase} does not answer: ${result.code} ${result.message}${tlsAdvice(result.code)}`,
    );
  }
}
