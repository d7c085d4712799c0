import { sendSyncedBurst } from '../client/burst.js';
import {
  outcomeOfError,
  type AttemptClient,
  type AttemptRequest,
  type AttemptResult,
  type TransportOptions,
} from '../client/send.js';
import type { HeaderList, ProbeReading } from '../history/events.js';
import type { HistoryRecorder } from '../history/recorder.js';
import type { LaneSet } from '../nemesis/lanes.js';
import type { Operation, PatternPlan, SendStep, Step } from '../plan/schedule.js';
import { fillText, fillUrl, type TemplateVars } from '../plan/template.js';
import { expandEnv, type EffectProbe, type StateProbe } from '../probe/probes.js';
import type { Scenario } from '../scenario/schema.js';
import type { TrafficGate } from './gate.js';

/** Everything a pattern needs to run against one scenario's target. */
export interface ScenarioRuntime {
  readonly scenario: Scenario;
  /** The target's base URL (scheme, host, port and any path prefix), without a trailing slash. */
  readonly targetBase: string;
  readonly lanes: LaneSet;
  readonly client: AttemptClient;
  readonly recorder: HistoryRecorder;
  readonly effects: EffectProbe;
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
      await probe(runtime, plan, step);
      return;
  }
}

function operationOf(plan: PatternPlan, index: number): Operation {
  const operation = plan.operations[index];
  if (operation === undefined)
    throw new Error(`${plan.id}: step refers to operation ${index}, which the plan does not have`);
  return operation;
}

function varsFor(
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
  };
}

function tenantHeaders(
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

/** A header value: {{templates}} filled, then ${ENV_VARS} expanded (tokens stay out of files). */
function headerText(template: string, vars: TemplateVars): string {
  return expandEnv(fillText(template, vars));
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
    const { results, releasedAt } = await sendSyncedBurst(
      synced.map((item) => item.request),
      () => runtime.recorder.now(),
      {
        ...(reusable ? { agent: runtime.client.burstAgent } : {}),
        stop: runtime.gate.signal,
        bodyLimit: runtime.client.bodyLimit,
      },
    );
    synced.forEach((item, index) => {
      const result = results[index];
      if (result !== undefined) item.complete(result, releasedAt[index]);
    });
  }
  await Promise.all(plainSends);
}

/** Builds the request and records its invoke; the returned function sends it. */
/** A request recorded as invoked, ready to send; `complete` records how it ended. */
interface PreparedAttempt {
  readonly request: AttemptRequest;
  complete(result: AttemptResult, releasedAt?: number): void;
}

function prepareAttempt(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  send: SendStep,
): PreparedAttempt {
  const { scenario, recorder } = runtime;
  const operation = operationOf(plan, send.op);
  const vars = varsFor(runtime, operation, send.tenant);
  const lane = runtime.lanes.definition(send.lane);
  const path = fillUrl(scenario.target.path, vars);
  const targetUrl = `${runtime.targetBase}${path}`;
  const target = new URL(runtime.targetBase);
  const laneUrl = `${target.protocol}//${runtime.lanes.address(send.lane)}${target.pathname.replace(/\/+$/, '')}${path}`;

  const payload = send.variant === 'original' ? operation.payload : operation.differentPayload;
  const body =
    payload === undefined ? null : JSON.stringify(payload).replaceAll('{{sink}}', runtime.sinkUrl);
  const headers: [string, string][] = [];
  const add = (name: string, value: string): void => {
    const lower = name.toLowerCase();
    const existing = headers.findIndex(([header]) => header === lower);
    if (existing >= 0) headers.splice(existing, 1);
    headers.push([lower, value]);
  };
  add('host', target.host);
  for (const [name, value] of Object.entries(scenario.target.headers))
    add(name, headerText(value, vars));
  for (const [name, value] of Object.entries(plan.headers)) add(name, headerText(value, vars));
  for (const [name, value] of tenantHeaders(runtime, send.tenant, vars)) add(name, value);
  if (send.keySent)
    add(scenario.key.header, scenario.key.quoted ? `"${operation.key}"` : operation.key);
  if (body !== null && !headers.some(([name]) => name === 'content-type'))
    add('content-type', 'application/json');

  const opId = `${plan.id}.${recorder.events.length}`;
  recorder.append({
    type: 'invoke',
    scenario: scenario.name,
    op: opId,
    pattern: plan.id,
    patternKind: plan.kind,
    label: send.label,
    key: operation.key,
    keySent: send.keySent,
    tenant: send.tenant,
    variant: send.variant,
    marker: operation.marker,
    lane: send.lane,
    group: send.group,
    resource: operation.resource,
    sequence: operation.sequence,
    request: { method: scenario.target.method, url: laneUrl, targetUrl, headers, body },
    timeoutMs: send.timeoutMs,
  });

  const request: AttemptRequest = {
    url: laneUrl,
    method: scenario.target.method,
    headers,
    body,
    timeoutMs: send.timeoutMs,
    freshConnection: lane.freshConnection,
    transport: runtime.transport,
  };
  return {
    request,
    complete(result, releasedAt) {
      const release =
        releasedAt === undefined ? {} : { releasedAt: Math.round(releasedAt * 1000) / 1000 };
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

async function probe(
  runtime: ScenarioRuntime,
  plan: PatternPlan,
  step: Extract<Step, { kind: 'probe-effects' | 'probe-keyless' | 'probe-state' }>,
): Promise<void> {
  const operation = operationOf(plan, step.op);
  const { tenant } = step;
  const source =
    step.kind === 'probe-state'
      ? 'http'
      : ((step.kind === 'probe-effects' ? runtime.effects : runtime.keylessEffects)?.source ??
        'http');
  // A probe that asks the target over HTTP is a request like any other.
  if (source === 'http' && !(await runtime.gate.admit(1))) return;
  const vars = varsFor(runtime, operation, tenant);
  const headers = tenantHeaders(runtime, tenant, vars);
  let reading: ProbeReading;
  try {
    if (step.kind === 'probe-state') {
      if (runtime.state === undefined) throw new Error('the scenario has no state probe');
      reading = { ok: true, state: await runtime.state.read(vars, headers) };
    } else {
      const effects = step.kind === 'probe-effects' ? runtime.effects : runtime.keylessEffects;
      if (effects === undefined) {
        throw new Error(
          'the scenario has no keylessEffects probe, so effects of requests without a key cannot be counted',
        );
      }
      reading = { ok: true, count: await effects.count(vars, headers) };
    }
  } catch (error) {
    reading = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  runtime.recorder.append({
    type: 'probe',
    scenario: runtime.scenario.name,
    probe: step.kind === 'probe-state' ? 'state' : 'effects',
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
