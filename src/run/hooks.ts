import type { AttemptClient, TransportOptions } from '../client/send.js';
import { IdemproofError } from '../errors.js';
import type { HeaderList, HookEvent, RecordedRequest } from '../history/events.js';
import type { HistoryRecorder } from '../history/recorder.js';
import { encodeBody } from '../plan/body.js';
import type { Operation } from '../plan/schedule.js';
import { fillStrings, type TemplateVars } from '../plan/template.js';
import { selectJsonPath } from '../probe/json-path.js';
import { resolveUrl } from '../probe/probes.js';
import type { HookPhase, HookStep } from '../scenario/schema-flow.js';
import type { Scenario } from '../scenario/schema.js';
import type { TrafficGate } from './gate.js';
import { headerText, pathWithQuery, recordedBody, wireValue } from './request-build.js';

/**
 * Carries out the scenario's hook requests (setup, reset, per-key setup and teardown): each
 * is admitted by the traffic gate, sent straight to the target (never through a fault lane),
 * recorded as one `hook` event, and held to its expected statuses; the values it captures
 * become template variables for what follows. A hook that fails stops the scenario with
 * IDEMPROOF_ERR_HOOK_FAILED: a flow that could not be set up proves nothing.
 *
 * Must not: judge the target's idempotency, or show a `secret` capture anywhere (it is taught
 * to the redactor before the event that holds it is recorded).
 */
export interface HookRuntime {
  readonly scenario: Scenario;
  readonly targetBase: string;
  readonly client: AttemptClient;
  readonly recorder: HistoryRecorder;
  readonly gate: TrafficGate;
  readonly transport?: TransportOptions | undefined;
}

/** What a scenario's flow learns as it runs: captured values, and delta probe baselines. */
export class FlowState {
  /** Values captured by scenario setup. */
  readonly scenario: Record<string, string> = {};
  private readonly perOperation = new WeakMap<Operation, Record<string, string>>();
  private readonly baselines = new WeakMap<Operation, number>();

  /** A delta probe's counter before the operation's first attempt, if it was read. */
  baseline(operation: Operation): number | undefined {
    return this.baselines.get(operation);
  }

  setBaseline(operation: Operation, count: number): void {
    this.baselines.set(operation, count);
  }

  of(operation: Operation): Readonly<Record<string, string>> {
    return this.perOperation.get(operation) ?? {};
  }

  add(operation: Operation, values: Readonly<Record<string, string>>): void {
    this.perOperation.set(operation, { ...this.of(operation), ...values });
  }
}

export interface HookContext {
  readonly phase: HookPhase;
  /** Variables the steps may name; each step's captures are added for the next ones. */
  readonly vars: TemplateVars;
  readonly pattern: string | null;
  readonly key: string | null;
  /** The tenant's headers, for per-key hooks of a pattern run as a tenant. */
  readonly tenantHeaders: HeaderList;
}

/**
 * Sends `steps` in order and returns what they captured (empty when the gate closed before
 * them: the run is stopping). Throws IDEMPROOF_ERR_HOOK_FAILED on the first failure.
 */
export async function runHooks(
  runtime: HookRuntime,
  steps: readonly HookStep[],
  context: HookContext,
): Promise<Record<string, string>> {
  const captured: Record<string, string> = {};
  for (const step of steps) {
    if (!(await runtime.gate.admit(1))) return captured;
    const vars = { ...context.vars, ...captured };
    Object.assign(captured, await runHook(runtime, step, vars, context));
  }
  return captured;
}

async function runHook(
  runtime: HookRuntime,
  step: HookStep,
  vars: TemplateVars,
  context: HookContext,
): Promise<Record<string, string>> {
  const { recorded: request, wireHeaders, body } = hookRequest(runtime, step, vars, context);
  const label = step.name ?? `${step.method} ${step.path}`;
  const where = `${context.phase} hook '${label}' (${request.method} ${request.url})`;
  const result = await runtime.client.send({
    url: request.url,
    method: request.method,
    headers: wireHeaders,
    body,
    timeoutMs: runtime.scenario.target.timeoutMs,
    freshConnection: false,
    transport: runtime.transport,
  });
  let failure: string | undefined;
  const values: Record<string, string> = {};
  if (result.kind === 'error') {
    failure = `${result.code}: ${result.message}`;
  } else {
    const { status, body } = result.response;
    if (!(step.expect?.includes(status) ?? (status >= 200 && status < 300))) {
      failure = `answered ${status}, expected ${step.expect?.join(' or ') ?? 'a 2xx status'}: ${body.slice(0, 200)}`;
    } else {
      failure = capture(step, body, values);
    }
  }
  if (step.secret)
    for (const value of Object.values(values)) runtime.recorder.redactor.learn(value);
  const event: Omit<HookEvent, 'index' | 'time'> = {
    type: 'hook',
    scenario: runtime.scenario.name,
    phase: context.phase,
    label,
    pattern: context.pattern,
    key: context.key,
    request,
    ...(result.kind === 'response'
      ? { response: result.response }
      : { error: { code: result.code, message: result.message } }),
    durationMs: result.durationMs,
    captured: Object.keys(values),
  };
  runtime.recorder.append(event);
  if (failure !== undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_HOOK_FAILED',
      runtime.recorder.redactor.scrub(`${where} failed: ${failure}`),
    );
  }
  return values;
}

/** A hook step's request: as recorded, and the headers and body as they go on the wire. */
interface HookRequest {
  readonly recorded: RecordedRequest;
  readonly wireHeaders: HeaderList;
  readonly body: Buffer | null;
}

/**
 * The request of a hook step: the tenant's headers (per-key hooks), then the step's own (names
 * as written, templates filled, ${ENV} expanded), and the body in its encoding. The target's
 * headers are not added: a hook may be what obtains them (a login capturing a token).
 */
function hookRequest(
  runtime: HookRuntime,
  step: HookStep,
  vars: TemplateVars,
  context: HookContext,
): HookRequest {
  const { scenario } = runtime;
  const url = resolveUrl(pathWithQuery(step.path, vars, [step.query ?? {}]), runtime.targetBase);
  const headers = new Map<string, [string, string]>();
  const add = (entries: Iterable<readonly [string, string]>): void => {
    for (const [name, value] of entries)
      headers.set(name.toLowerCase(), [name, headerText(value, vars)]);
  };
  add(context.tenantHeaders);
  add(Object.entries(step.headers ?? {}));
  const encoded =
    step.body === undefined
      ? null
      : encodeBody(fillStrings(step.body, vars), step.encoding, `${scenario.name}:${url}`);
  if (encoded !== null && !headers.has('content-type'))
    headers.set('content-type', ['content-type', encoded.contentType]);
  const list = [...headers.values()];
  const body = encoded?.bytes ?? null;
  return {
    recorded: { method: step.method, url, targetUrl: url, headers: list, ...recordedBody(body) },
    wireHeaders: list.map(([name, value]) => [name, wireValue(value)]),
    body,
  };
}

/** Fills `values` with the step's captures; a problem is returned, never thrown. */
function capture(step: HookStep, body: string, values: Record<string, string>): string | undefined {
  const wanted = Object.entries(step.capture ?? {});
  if (wanted.length === 0) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return `the answer is not JSON, so ${wanted.map(([name]) => name).join(', ')} cannot be captured: ${body.slice(0, 200)}`;
  }
  for (const [name, path] of wanted) {
    let value: unknown;
    try {
      value = selectJsonPath(document, path);
    } catch (error) {
      return `capture ${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      values[name] = String(value);
    } else {
      const found = value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 80);
      return `capture ${name}: expected a string or number at ${path}, found ${found}`;
    }
  }
  return undefined;
}

/** The variables of a hook that runs for no key: {{run}}, {{sink}} and scenario captures. */
export function scenarioVars(
  run: string,
  sinkUrl: string,
  captured: Readonly<Record<string, string>>,
): TemplateVars {
  return { key: '', tenant: '', marker: '', resource: '', run, n: '', sink: sinkUrl, ...captured };
}

/**
 * Runs `work` between the scenario's setup and teardown hooks: setup's captures go into
 * `flow` first; teardown runs after `work` even when it failed (unless the run is stopping),
 * and a teardown failure is reported only if `work` succeeded.
 */
export async function withScenarioHooks(
  runtime: HookRuntime & { readonly run: string; readonly sinkUrl: string },
  flow: FlowState,
  work: () => Promise<void>,
): Promise<void> {
  const { setup, teardown } = runtime.scenario.hooks;
  const context = (phase: HookPhase): HookContext => ({
    phase,
    vars: scenarioVars(runtime.run, runtime.sinkUrl, flow.scenario),
    pattern: null,
    key: null,
    tenantHeaders: [],
  });
  Object.assign(flow.scenario, await runHooks(runtime, setup, context('setup')));
  let failed = true;
  try {
    await work();
    failed = false;
  } finally {
    if (teardown.length > 0 && runtime.gate.stopped === undefined) {
      await runHooks(runtime, teardown, context('teardown')).catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
  }
}
