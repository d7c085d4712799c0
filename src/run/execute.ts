import { attemptLiveness } from '../check/key-liveness.js';
import { sendSyncedBurst } from '../client/burst.js';
import {
  outcomeOfError,
  type AttemptClient,
  type AttemptRequest,
  type AttemptResult,
  type TransportOptions,
} from '../client/send.js';
import type {
  CompletionEvent,
  HeaderList,
  HistoryEvent,
  InvokeEvent,
  ProbeReading,
} from '../history/events.js';
import type { HistoryRecorder } from '../history/recorder.js';
import type { LaneSet } from '../nemesis/lanes.js';
import type { ProcessControl } from '../nemesis/process.js';
import type {
  FollowUpStep,
  HookStepRun,
  Operation,
  PatternPlan,
  SendStep,
  Step,
} from '../plan/schedule.js';
import { fillStrings, type TemplateVars } from '../plan/template.js';
import { ABSENT, type EffectProbe, type StateProbe } from '../probe/probes.js';
import type { Scenario } from '../scenario/schema.js';
import type { TrafficGate } from './gate.js';
import { buildRequest, headerText } from './request-build.js';
import { FlowState, runHooks, scenarioVars } from './hooks.js';
import { runCrashStep } from './process-steps.js';
import { executeDependencyStep, healDependencies } from './dependency-steps.js';
import type { DependencySet } from '../nemesis/dependencies.js';

/** Everything a pattern needs to run against one scenario's target. */
export interface ScenarioRuntime {
  readonly scenario: Scenario;
  /** The target's base URL (scheme, host, port and any path prefix), without a trailing slash. */
  readonly targetBase: string;
  readonly lanes: LaneSet;
  readonly client: AttemptClient;
  readonly recorder: HistoryRecorder;
  /** Absent when every pattern is judged without counting effects (state probes). */
  readonly effects: EffectProbe | undefined;
  readonly keylessEffects: EffectProbe | undefined;
  readonly state: StateProbe | undefined;
  readonly sinkUrl: string;
  readonly run: string;
  /** Called after every attempt completes (progress). */
  readonly onAttempt: () => void;
  /** Admits every request to the target (limits) and closes when the run stops early. */
  readonly gate: TrafficGate;
  /** HTTP version and TLS of the target, for every attempt (absent: HTTP/1.1, system CAs). */
  readonly transport?: TransportOptions | undefined;
  /** Values captured by hooks and delta baselines (absent: a scenario without a flow). */
  readonly flow?: FlowState | undefined;
  /** Crashes and restarts the target (absent: the scenario has no process commands). */
  readonly process?: ProcessControl | undefined;
  /** The proxies of the scenario's dependencies (absent: it declares none). */
  readonly dependencies?: DependencySet | undefined;
}

/**
 * Carries out one pattern's plan: sends, bursts, pauses and probe readings, recording each
 * attempt as an invoke and exactly one completion. Background attempts are always joined
 * before it returns, even when a step fails.
 */
export async function executePattern(runtime: ScenarioRuntime, plan: PatternPlan): Promise<void> {
  const pending: Promise<void>[] = [];
  try {
    for (const step of plan.steps) {
      if (runtime.gate.stopped !== undefined) break;
      await executeStep(runtime, plan, step, pending);
    }
  } finally {
    await Promise.allSettled(pending);
    await healDependencies(runtime.dependencies);
  }
}

async function executeStep(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  step: Step,
  pending: Promise<void>[],
): Promise<void> {
  switch (step.kind) {
    case 'send': {
      if (!(await runtime.gate.admit(1))) return;
      const attempt = startAttempt(runtime, plan, step);
      if (step.background) pending.push(attempt);
      else await attempt;
      return;
    }
    case 'burst':
      if (!(await runtime.gate.admit(step.sends.length))) return;
      await releaseBurst(runtime, plan, step);
      return;
    case 'sleep':
      await runtime.gate.sleep(step.ms);
      return;
    case 'join':
      await Promise.allSettled(pending.splice(0));
      return;
    case 'probe-effects':
    case 'probe-keyless':
    case 'probe-state':
    case 'probe-baseline':
      await probe(runtime, plan, step);
      return;
    case 'hook':
      await runFlowStep(runtime, plan, step);
      return;
    case 'follow-up':
      await followUp(runtime, plan, step);
      return;
    case 'crash':
      await runCrashStep(runtime, plan, step, pending);
      return;
    case 'dependency-fault':
    case 'dependency-heal':
      await executeDependencyStep(runtime.dependencies, plan, step);
      return;
  }
}

/**
 * A liveness follow-up (see FollowUpStep): while the operation's latest answer is in progress,
 * send it again after `intervalMs` until the answer is something else or an attempt has started
 * `waitMs` after the last attempt that may hold the key. After an unknown outcome it sends once,
 * at once, and only if the key has answered before (a target that never answers has no
 * in-progress state to judge). Bounded by `maxAttempts` and the gate.
 */
async function followUp(runtime: ScenarioRuntime, plan: PatternPlan, step: FollowUpStep) {
  const { marker } = operationOf(plan, step.send.op);
  for (let sent = 0; sent < step.maxAttempts; sent += 1) {
    const state = pendingKey(runtime.recorder.events, plan.id, marker, step.inFlightStatus);
    if (state === undefined) return;
    if (!state.inProgress && (sent > 0 || !state.answered)) return;
    const deadline = state.holderStart + step.waitMs;
    if (state.lastStart >= deadline) return;
    const now = runtime.recorder.now();
    const at = state.inProgress ? Math.min(now + step.intervalMs, deadline) : now;
    if (at > now) await runtime.gate.sleep(at - now);
    if (runtime.gate.stopped !== undefined || !(await runtime.gate.admit(1))) return;
    await startAttempt(runtime, plan, step.send);
  }
}

/**
 * Whether the operation (by marker) of the pattern is still pending: its latest attempt was
 * answered with an in-flight status or ended with an unknown outcome. The holder is the latest
 * attempt that may hold the key. Both by `attemptLiveness`, the rule the keyNotStuck checker
 * judges by. Reads the history from its end, down to the first attempt of another pattern.
 */
function pendingKey(
  events: readonly HistoryEvent[],
  pattern: string,
  marker: string,
  inFlightStatus: readonly number[],
): { inProgress: boolean; answered: boolean; holderStart: number; lastStart: number } | undefined {
  const completions = new Map<string, CompletionEvent>();
  let latest: { invoke: InvokeEvent; completion: CompletionEvent | undefined } | undefined;
  let holder: InvokeEvent | undefined;
  let earliest: InvokeEvent | undefined;
  let answered = false;
  for (let index = events.length - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (event === undefined) continue;
    if (event.type === 'ok' || event.type === 'fail' || event.type === 'info')
      completions.set(event.op, event);
    if (event.type !== 'invoke') continue;
    if (event.pattern !== pattern) break;
    if (event.marker !== marker || event.variant !== 'original') continue;
    const completion = completions.get(event.op);
    latest ??= { invoke: event, completion };
    earliest = event;
    if (completion?.type === 'ok') answered = true;
    if (holder === undefined && attemptLiveness(completion, inFlightStatus).mayHold) holder = event;
  }
  if (latest === undefined || earliest === undefined) return undefined;
  const state = attemptLiveness(latest.completion, inFlightStatus);
  if (!state.pending) return undefined;
  return {
    inProgress: state.inProgress,
    answered,
    holderStart: (holder ?? earliest).time,
    lastStart: latest.invoke.time,
  };
}

export function operationOf(plan: PatternPlan, index: number): Operation {
  const operation = plan.operations[index];
  if (operation === undefined)
    throw new Error(`${plan.id}: step refers to operation ${index}, which the plan does not have`);
  return operation;
}

export function varsFor(
  runtime: ScenarioRuntime,
  operation: Operation,
  tenant: string | null,
): TemplateVars {
  return {
    key: operation.key,
    tenant: tenant ?? '',
    marker: operation.marker,
    resource: operation.resource ?? '',
    run: runtime.run,
    n: '',
    sink: runtime.sinkUrl,
    // What hooks captured: scenario setup, then this operation's own setup.
    ...runtime.flow?.scenario,
    ...runtime.flow?.of(operation),
  };
}

/** An operation with the values hooks captured filled into its payloads (left as {{name}}). */
function withCaptures(
  runtime: ScenarioRuntime,
  operation: Operation,
  vars: TemplateVars,
): Operation {
  const { hooks, dependencies } = runtime.scenario;
  const late = hooks.setup.length + hooks.perKey.setup.length + Object.keys(dependencies).length;
  if (late === 0) return operation;
  return {
    ...operation,
    payload: fillStrings(operation.payload, vars),
    differentPayload: fillStrings(operation.differentPayload, vars),
  };
}

/** Runs the hooks of a plan's hook step: reset, or one operation's setup or teardown. */
async function runFlowStep(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  step: HookStepRun,
): Promise<void> {
  const { hooks } = runtime.scenario;
  const flow = runtime.flow ?? new FlowState();
  if (step.op === null) {
    await runHooks(runtime, hooks.reset, {
      phase: step.phase,
      vars: scenarioVars(runtime.run, runtime.sinkUrl, flow.scenario),
      pattern: plan.id,
      key: null,
      tenantHeaders: [],
    });
    return;
  }
  const operation = operationOf(plan, step.op);
  const vars = varsFor(runtime, operation, step.tenant);
  const captured = await runHooks(
    runtime,
    step.phase === 'key-setup' ? hooks.perKey.setup : hooks.perKey.teardown,
    {
      phase: step.phase,
      vars,
      pattern: plan.id,
      key: operation.key,
      tenantHeaders: tenantHeaders(runtime, step.tenant, vars),
    },
  );
  flow.add(operation, captured);
}

export function tenantHeaders(
  runtime: ScenarioRuntime,
  tenant: string | null,
  vars: TemplateVars,
): HeaderList {
  if (tenant === null) return [];
  const headers = runtime.scenario.target.tenants[tenant] ?? {};
  return Object.entries(headers).map(([name, value]) => [
    name.toLowerCase(),
    headerText(value, vars),
  ]);
}

async function startAttempt(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  send: SendStep,
): Promise<void> {
  const prepared = prepareAttempt(runtime, plan, send);
  prepared.complete(await runtime.client.send(prepared.request));
}

/**
 * Releases a burst: every request is prepared and recorded first; with last-byte release,
 * the requests that have a body go out synchronised and the others (no body to hold back)
 * plainly at the same moment.
 */
async function releaseBurst(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  step: Extract<Step, { kind: 'burst' }>,
): Promise<void> {
  const prepared = step.sends.map((send) => prepareAttempt(runtime, plan, send));
  const synced =
    step.release === 'last-byte'
      ? prepared.filter((item) => (item.request.body ?? '').length > 0)
      : [];
  const plain = prepared.filter((item) => !synced.includes(item));
  const plainSends = plain.map(async (item) =>
    item.complete(await runtime.client.send(item.request)),
  );
  if (synced.length > 0) {
    // Connections are kept alive from burst to burst only on clean lanes; a faulted lane
    // gets a fresh connection per request, so a fault never leaks into the next one.
    const reusable = synced.every((item) => !item.request.freshConnection);
    const { results, releasedAt, pauseMs } = await sendSyncedBurst(
      synced.map((item) => item.request),
      () => runtime.recorder.now(),
      {
        ...(reusable ? { agent: runtime.client.burstAgentFor(runtime.transport) } : {}),
        stop: runtime.gate.signal,
        bodyLimit: runtime.client.bodyLimit,
        releasePauseMs: step.releasePauseMs ?? 'auto',
      },
    );
    synced.forEach((item, index) => {
      const result = results[index];
      if (result !== undefined) item.complete(result, releasedAt[index], pauseMs);
    });
  }
  await Promise.all(plainSends);
}

/** Builds the request and records its invoke; the returned function sends it. */
/** A request recorded as invoked, ready to send; `complete` records how it ended. */
interface PreparedAttempt {
  readonly request: AttemptRequest;
  complete(result: AttemptResult, releasedAt?: number, releasePauseMs?: number): void;
}

function prepareAttempt(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  send: SendStep,
): PreparedAttempt {
  const { scenario, recorder } = runtime;
  const planned = operationOf(plan, send.op);
  const vars = varsFor(runtime, planned, send.tenant);
  const operation = withCaptures(runtime, planned, vars);
  const lane = runtime.lanes.definition(send.lane);
  const built = buildRequest({
    scenario,
    targetBase: runtime.targetBase,
    laneAddress: runtime.lanes.address(send.lane),
    planHeaders: plan.headers,
    operation,
    send,
    vars,
    sinkUrl: runtime.sinkUrl,
  });

  const opId = `${plan.id}.${recorder.events.length}`;
  recorder.append({
    type: 'invoke',
    scenario: scenario.name,
    op: opId,
    pattern: plan.id,
    patternKind: plan.kind,
    label: send.label,
    key: built.key,
    keySent: send.keySent,
    tenant: send.tenant,
    variant: send.variant,
    marker: operation.marker,
    lane: send.lane,
    group: send.group,
    resource: operation.resource,
    sequence: operation.sequence,
    ...(send.afterRetention === true ? { afterRetention: true as const } : {}),
    request: built.recorded,
    timeoutMs: send.timeoutMs,
  });

  const request: AttemptRequest = {
    url: built.url,
    method: built.method,
    headers: built.wireHeaders,
    body: built.body,
    timeoutMs: send.timeoutMs,
    freshConnection: lane.freshConnection,
    transport: runtime.transport,
  };
  return {
    request,
    complete(result, releasedAt, releasePauseMs) {
      const release = {
        ...(releasedAt === undefined ? {} : { releasedAt: Math.round(releasedAt * 1000) / 1000 }),
        ...(releasePauseMs === undefined ? {} : { releasePauseMs }),
      };
      if (result.kind === 'response') {
        recorder.append({
          type: 'ok',
          scenario: scenario.name,
          op: opId,
          response: result.response,
          durationMs: result.durationMs,
          ...release,
        });
      } else {
        recorder.append({
          type: outcomeOfError(result.code, lane.delivers),
          scenario: scenario.name,
          op: opId,
          error: { code: result.code, message: result.message },
          durationMs: result.durationMs,
          ...release,
        });
      }
      runtime.onAttempt();
    },
  };
}

type ProbeStep = Extract<
  Step,
  { kind: 'probe-effects' | 'probe-keyless' | 'probe-state' | 'probe-baseline' }
>;

async function probe(runtime: ScenarioRuntime, plan: PatternPlan, step: ProbeStep): Promise<void> {
  const operation = operationOf(plan, step.op);
  const { tenant } = step;
  const counter = step.kind === 'probe-keyless' ? runtime.keylessEffects : runtime.effects;
  const source = step.kind === 'probe-state' ? 'http' : (counter?.source ?? 'http');
  // A probe that asks the target over HTTP is a request like any other.
  if (source === 'http' && !(await runtime.gate.admit(1))) return;
  const vars = varsFor(runtime, operation, tenant);
  const headers = tenantHeaders(runtime, tenant, vars);
  let reading: ProbeReading;
  try {
    if (step.kind === 'probe-state') {
      if (runtime.state === undefined) throw new Error('the scenario has no state probe');
      const state = await runtime.state.read(vars, headers);
      reading = state === ABSENT ? { ok: true, state: null, absent: true } : { ok: true, state };
    } else {
      if (counter === undefined) {
        throw new Error(
          step.kind === 'probe-keyless'
            ? 'the scenario has no keylessEffects probe, so effects of requests without a key cannot be counted'
            : 'the scenario has no effect probe',
        );
      }
      reading = await countReading(runtime, counter, operation, step, () =>
        counter.count(vars, headers),
      );
    }
  } catch (error) {
    reading = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  runtime.recorder.append({
    type: 'probe',
    scenario: runtime.scenario.name,
    probe:
      step.kind === 'probe-state'
        ? 'state'
        : step.kind === 'probe-baseline'
          ? 'baseline'
          : 'effects',
    source,
    pattern: plan.id,
    patternKind: plan.kind,
    key: step.kind === 'probe-keyless' ? null : operation.key,
    tenant,
    marker: step.kind === 'probe-keyless' ? operation.marker : null,
    resource: operation.resource,
    label: step.label,
    reading,
  });
}

/**
 * An effect reading. A delta probe's baseline is kept for the operation; its later readings
 * count after − before (no baseline, no count: the reading fails rather than guess).
 */
async function countReading(
  runtime: ScenarioRuntime,
  counter: EffectProbe,
  operation: Operation,
  step: ProbeStep,
  read: () => Promise<number>,
): Promise<ProbeReading> {
  const count = await read();
  if (step.kind === 'probe-baseline') {
    runtime.flow?.setBaseline(operation, count);
    return { ok: true, count };
  }
  if (!counter.delta || step.kind !== 'probe-effects') return { ok: true, count };
  const before = runtime.flow?.baseline(operation);
  if (before === undefined)
    throw new Error('no delta baseline was read before the first attempt of this key');
  return { ok: true, count: count - before, before, after: count };
}
