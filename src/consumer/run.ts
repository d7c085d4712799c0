import { groupDefects } from '../check/defects.js';
import { mergeValidity, type Validity } from '../check/types.js';
import { createBrokerClient } from '../broker/client.js';
import type { BrokerClient, BrokerTarget, OutgoingMessage } from '../broker/types.js';
import { IdemproofError, describeError } from '../errors.js';
import type { HistoryEvent, ProbeReading } from '../history/events.js';
import type { HistoryRecorder } from '../history/recorder.js';
import { scrubUrls } from '../history/redact.js';
import {
  assertHostsAllowed,
  hostOfUrl,
  hostsOfConnectionString,
  type HostUse,
} from '../run/blast-radius.js';
import {
  expandDependencyEnv,
  prepareDependencies,
  type DependencySet,
} from '../nemesis/dependencies.js';
import type { ToxiproxyApi } from '../nemesis/toxiproxy-api.js';
import type { TemplateVars } from '../plan/template.js';
import {
  ABSENT,
  createEffectProbe,
  createStateProbe,
  expandEnv,
  type EffectProbe,
  type ProbeResources,
} from '../probe/probes.js';
import type { TrafficGate } from '../run/gate.js';
import type { ScenarioResult } from '../run/result.js';
import { PROFILES } from '../scenario/profile.js';
import { runConsumerChecks } from './checks.js';
import type { LoadedConsumerScenario } from './load.js';
import { planConsumerScenario, type ConsumerPlan, type PlannedMessage } from './plan.js';
import type { ConsumerScenario } from './schema.js';

/**
 * Runs one consumer scenario: publishes each pattern's messages to the broker, holds and cuts
 * the consumer's broker lane, moves dead letters back, reads effects and state through the
 * usual probes, and judges the history with the consumer checks.
 *
 * Must not: consume from the consumer's queue or group, leave a fault on a lane (the
 * dependency set heals and removes in a finally), or lose what was recorded when the broker
 * or a probe fails (the scenario ends with an error and what ran is judged).
 */

export interface ConsumerRunOptions {
  readonly index: number;
  readonly seed: number;
  readonly run: string;
  readonly api: ToxiproxyApi;
  readonly recorder: HistoryRecorder;
  readonly gate: TrafficGate;
  readonly probes: Omit<ProbeResources, 'targetBase'>;
  readonly env?: NodeJS.ProcessEnv;
  readonly onAttempt?: () => void;
}

const POLL_MS = 50;

export function planConsumer(
  loaded: LoadedConsumerScenario,
  options: { readonly seed: number; readonly run: string; readonly index: number },
): ConsumerPlan[] {
  return planConsumerScenario(loaded.scenario, {
    seed: options.seed + options.index,
    run: `${options.run}${options.index}`,
  });
}

/** The broker address of a consumer scenario, from the scenario or the environment. */
export function brokerTarget(
  scenario: ConsumerScenario,
  env: NodeJS.ProcessEnv,
  file: string,
): BrokerTarget {
  const { consumer } = scenario;
  const pick = (given: string | undefined, names: readonly string[], what: string): string => {
    if (given !== undefined) return expandEnv(given, env);
    for (const name of names) {
      const value = env[name]?.trim();
      if (value) return value;
    }
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${file}: consumer.${what} is not set and neither is ${names.join(' nor ')}: name the broker`,
    );
  };
  if (consumer.broker === 'rabbitmq') {
    return {
      broker: 'rabbitmq',
      url: pick(consumer.url, ['IDEMPROOF_RABBITMQ_URL', 'AMQP_URL'], 'url'),
      exchange: consumer.exchange,
      routingKey: consumer.routingKey ?? consumer.queue,
      queue: consumer.queue,
      deadLetterQueue: consumer.deadLetterQueue,
    };
  }
  return {
    broker: 'kafka',
    bootstrap: pick(consumer.bootstrap, ['IDEMPROOF_KAFKA_URL', 'KAFKA_BOOTSTRAP'], 'bootstrap'),
    topic: consumer.topic,
    deadLetterTopic: consumer.deadLetterTopic,
  };
}

/**
 * Refuses (exit 2) a consumer scenario whose broker, probes or lanes name a host outside
 * loopback that nobody allowed (`--allow-host`), before any traffic.
 */
export async function assertConsumerHosts(
  consumers: readonly LoadedConsumerScenario[],
  allowHosts: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  for (const { scenario, file } of consumers) {
    const target = brokerTarget(scenario, env, file);
    const uses: HostUse[] =
      target.broker === 'rabbitmq'
        ? [hostOfUrl(target.url, 'broker', file)]
        : target.bootstrap
            .split(',')
            .map((address) =>
              hostOfUrl(`tcp://${address.trim().replace(/^[a-z]+:\/\//i, '')}`, 'broker', file),
            );
    const { effects, state } = scenario;
    for (const probe of ['delta' in effects ? effects.delta : effects, state]) {
      if (probe === undefined) continue;
      if ('http' in probe)
        uses.push(hostOfUrl(probe.http.url.replace(/\{\{\s*\w+\s*\}\}/g, 'x'), 'probe', file));
      if ('sql' in probe)
        uses.push(...hostsOfConnectionString(expandEnv(probe.sql.url, env), 'probe (SQL)', env));
    }
    for (const [name, dependency] of Object.entries(
      expandDependencyEnv(scenario.dependencies, env, file),
    )) {
      for (const address of [dependency.listen, dependency.upstream])
        uses.push(hostOfUrl(`tcp://${address}`, `dependency ${name}`, file));
    }
    await assertHostsAllowed(uses, allowHosts, file);
  }
}

export async function runConsumerScenario(
  loaded: LoadedConsumerScenario,
  options: ConsumerRunOptions,
): Promise<ScenarioResult> {
  const { scenario, file } = loaded;
  const started = performance.now();
  const env = options.env ?? process.env;
  const plans = planConsumer(loaded, options);
  const { recorder } = options;
  let error: ScenarioResult['error'] = null;
  let client: BrokerClient | undefined;
  let dependencies: DependencySet | undefined;
  let description: string = scenario.consumer.broker;
  try {
    const target = brokerTarget(scenario, env, file);
    client = await createBrokerClient(target);
    description = client.description;
    const resources: ProbeResources = { ...options.probes, targetBase: '' };
    const effects = createEffectProbe(scenario.effects, resources);
    const readState = stateReader(scenario, resources);
    if (Object.keys(scenario.dependencies).length > 0) {
      dependencies = await prepareDependencies({
        api: options.api,
        prefix: `idemproof_${options.run}_s${options.index}`,
        dependencies: expandDependencyEnv(scenario.dependencies, env, file),
        recorder,
        scenario: scenario.name,
      });
    }
    const executor = new Executor({
      scenario,
      client,
      effects,
      readState,
      dependencies,
      recorder,
      gate: options.gate,
      run: options.run,
      onAttempt: options.onAttempt,
    });
    for (const plan of plans) {
      if (options.gate.stopped !== undefined) break;
      await executor.execute(plan);
    }
  } catch (caught) {
    error = {
      code: caught instanceof IdemproofError ? caught.code : 'IDEMPROOF_ERR_INTERNAL',
      message: recorder.redactor.scrub(describeError(caught)),
    };
  } finally {
    await dependencies?.remove().catch((caught: unknown) => {
      error ??= {
        code: 'IDEMPROOF_ERR_TOXIPROXY_API',
        message: `could not heal or remove dependency lanes: ${describeError(caught)}`,
      };
    });
    await client?.close().catch(() => undefined);
  }
  const history = recorder.events.filter((event) => event.scenario === scenario.name);
  return consumerScenarioResult({
    loaded,
    plans,
    history,
    target: description,
    durationMs: performance.now() - started,
    error,
  });
}

/** A consumer scenario's result from its history: what a run and a rebuild both report. */
export function consumerScenarioResult(input: {
  readonly loaded: LoadedConsumerScenario;
  readonly plans: readonly ConsumerPlan[];
  readonly history: readonly HistoryEvent[];
  /** The broker and destination, for people. */
  readonly target: string;
  readonly durationMs: number;
  readonly error: ScenarioResult['error'];
}): ScenarioResult {
  const { loaded, plans, history, error } = input;
  const checks = runConsumerChecks(history, plans);
  let valid: Validity = checks.reduce<Validity>(
    (merged, check) => mergeValidity(merged, check.valid),
    true,
  );
  if (error !== null) valid = mergeValidity(valid, 'unknown');
  const publishes = history.filter((event) => event.type === 'publish');
  const durations = publishes.map((event) => event.durationMs).sort((a, b) => a - b);
  const at = (quantile: number): number =>
    durations[
      Math.min(durations.length - 1, Math.max(0, Math.ceil(quantile * durations.length) - 1))
    ] ?? 0;
  return {
    name: loaded.scenario.name,
    file: loaded.file,
    target: scrubUrls(input.target),
    profile: { ...PROFILES.default, name: 'consumer' },
    valid,
    patterns: plans.map((plan) => ({
      id: plan.id,
      kind: plan.kind,
      attempts: publishes.filter((event) => event.pattern === plan.id).length,
      keys: new Set(plan.messages.map((message) => message.id)).size,
      notes: [],
    })),
    checks,
    defects: groupDefects({ checks, history }),
    attempts: {
      total: publishes.length,
      ok: publishes.filter((event) => event.ok).length,
      fail: publishes.filter((event) => !event.ok).length,
      info: 0,
    },
    latency: {
      count: durations.length,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: durations.at(-1) ?? 0,
    },
    durationMs: Math.round(input.durationMs),
    error,
    transport: null,
  };
}

type StateReader = (resource: string, vars: TemplateVars) => Promise<unknown>;

/** The state probe: http as for APIs, or sql (the first column of the first row; no row: absent). */
function stateReader(
  scenario: ConsumerScenario,
  resources: ProbeResources,
): StateReader | undefined {
  const spec = scenario.state;
  if (spec === undefined) return undefined;
  if ('http' in spec) {
    const probe = createStateProbe(spec, resources);
    return (_resource, vars) => probe.read(vars, []);
  }
  const { sql } = spec;
  return async (_resource, vars) => {
    const pool = resources.pool(expandEnv(sql.url));
    const values = sql.params.map((name) => vars[name]);
    const result = await pool.query<Record<string, unknown>>(sql.query, values);
    const row = result.rows[0];
    if (row === undefined) return ABSENT;
    return Object.values(row)[0] ?? null;
  };
}

interface ExecutorInput {
  readonly scenario: ConsumerScenario;
  readonly client: BrokerClient;
  readonly effects: EffectProbe;
  readonly readState: StateReader | undefined;
  readonly dependencies: DependencySet | undefined;
  readonly recorder: HistoryRecorder;
  readonly gate: TrafficGate;
  readonly run: string;
  readonly onAttempt?: (() => void) | undefined;
}

class Executor {
  /** A delta probe's counter before each pattern's first message, by pattern id. */
  private readonly baselines = new Map<string, number>();

  constructor(private readonly input: ExecutorInput) {}

  async execute(plan: ConsumerPlan): Promise<void> {
    const { dependencies, gate } = this.input;
    try {
      if (this.input.effects.delta) await this.readBaseline(plan);
      for (const step of plan.steps) {
        if (gate.stopped !== undefined) return;
        switch (step.kind) {
          case 'publish':
            await this.publish(plan, step.message, step.label, step.partition);
            break;
          case 'publish-together':
            await Promise.all(
              step.sends.map((send) =>
                this.publish(plan, send.message, send.label, send.partition),
              ),
            );
            break;
          case 'publish-batch':
            await this.publishBatch(plan, step.messages, step.label);
            break;
          case 'sleep':
            await gate.sleep(step.ms);
            break;
          case 'hold-acks':
            await this.lanes(step.dependency).fault(
              step.dependency,
              { kind: 'latency', ms: step.holdMs, direction: 'requests' },
              plan.id,
            );
            break;
          case 'cut':
            await this.lanes(step.dependency).cut(step.dependency, plan.id);
            break;
          case 'heal':
            await this.lanes(step.dependency).heal(step.dependency);
            break;
          case 'await-effects':
            await this.awaitEffects(plan, step.messages, step.timeoutMs, step.label);
            break;
          case 'probe-effects':
            if (this.input.effects.delta) await this.probeDelta(plan, step.label);
            else
              for (const ref of step.messages)
                await this.probeEffects(plan, this.message(plan, ref), step.label);
            break;
          case 'probe-state':
            await this.probeState(plan, step.resource, step.label);
            break;
          case 'dead-letter':
            await this.deadLetter(plan, step.messages);
            break;
          case 'find-dead-letters':
            await this.findDeadLetters(plan, step.messages, step.timeoutMs);
            break;
          case 'replay-dead-letters':
            await this.replay(plan, step.messages, step.timeoutMs);
            break;
        }
      }
    } finally {
      await dependencies?.healAll();
    }
  }

  private lanes(name: string): DependencySet {
    const { dependencies, scenario } = this.input;
    if (dependencies === undefined || !dependencies.names.includes(name)) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_SCENARIO',
        `scenario '${scenario.name}': dependency '${name}' is not declared under dependencies`,
      );
    }
    return dependencies;
  }

  private message(plan: ConsumerPlan, ref: number): PlannedMessage {
    const message = plan.messages[ref];
    if (message === undefined) throw new Error(`${plan.id}: no message ${ref}`);
    return message;
  }

  private outgoing(message: PlannedMessage, partition?: number): OutgoingMessage {
    const place = this.input.scenario.message.id.in;
    return {
      id: message.id,
      key: message.key,
      headers: message.headers,
      body: Buffer.from(message.body),
      messageIdProperty: 'property' in place ? message.id : undefined,
      partition,
    };
  }

  private async publish(
    plan: ConsumerPlan,
    ref: number,
    label: string,
    partition?: number,
  ): Promise<void> {
    const { client, gate } = this.input;
    const message = this.message(plan, ref);
    if (!(await gate.admit(1))) return;
    let spread = partition;
    if (spread !== undefined) {
      const partitions = await client.partitions();
      spread = partitions > 1 ? spread % partitions : undefined;
    }
    const startedAt = performance.now();
    const receipt = await client
      .publish(this.outgoing(message, spread))
      .catch((error: unknown) => ({ ok: false, where: '', error: describeError(error) }));
    this.input.onAttempt?.();
    this.recordPublish(plan, message, label, {
      ok: receipt.ok,
      detail: receipt.ok ? receipt.where : (receipt.error ?? 'not confirmed'),
      durationMs: Math.round(performance.now() - startedAt),
    });
  }

  /** Publishes distinct messages at once and records one publish event per message. */
  private async publishBatch(
    plan: ConsumerPlan,
    refs: readonly number[],
    label: string,
  ): Promise<void> {
    const { client, gate } = this.input;
    if (!(await gate.admit(refs.length))) return;
    const messages = refs.map((ref) => this.message(plan, ref));
    const startedAt = performance.now();
    const receipts = await client
      .publishMany(messages.map((message) => this.outgoing(message)))
      .catch((error: unknown) =>
        messages.map(() => ({ ok: false, where: '', error: describeError(error) })),
      );
    const durationMs = Math.round(performance.now() - startedAt);
    messages.forEach((message, index) => {
      const receipt = receipts[index] ?? { ok: false, where: '', error: 'no receipt' };
      this.input.onAttempt?.();
      this.recordPublish(plan, message, label, {
        ok: receipt.ok,
        detail: receipt.ok ? receipt.where : (receipt.error ?? 'not confirmed'),
        durationMs,
      });
    });
  }

  private recordPublish(
    plan: ConsumerPlan,
    message: PlannedMessage,
    label: string,
    outcome: { readonly ok: boolean; readonly detail: string; readonly durationMs: number },
  ): void {
    const { client, recorder, scenario } = this.input;
    recorder.append({
      type: 'publish',
      scenario: scenario.name,
      op: `${plan.id}.${recorder.events.length}`,
      pattern: plan.id,
      patternKind: plan.kind,
      label,
      key: message.id,
      resource: message.resource,
      version: message.version,
      destination: client.description,
      headers: Object.entries(message.headers),
      body: message.body,
      ...outcome,
      ...(message.poison ? { poison: true as const } : {}),
    });
  }

  private vars(message: PlannedMessage): TemplateVars {
    return {
      key: message.id,
      tenant: '',
      marker: message.marker,
      resource: message.resource,
      run: this.input.run,
      n: '',
      sink: '',
    };
  }

  private async readEffects(message: PlannedMessage): Promise<ProbeReading> {
    try {
      return { ok: true, count: await this.input.effects.count(this.vars(message), []) };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  }

  private record(
    plan: ConsumerPlan,
    message: PlannedMessage,
    label: string,
    reading: ProbeReading,
    probe: 'effects' | 'dead-letter' | 'baseline' = 'effects',
  ): void {
    const { recorder, scenario, effects } = this.input;
    recorder.append({
      type: 'probe',
      scenario: scenario.name,
      probe,
      source: probe === 'dead-letter' ? scenario.consumer.broker : effects.source,
      pattern: plan.id,
      patternKind: plan.kind,
      key: message.id,
      tenant: null,
      marker: message.marker,
      resource: message.resource,
      label,
      reading,
    });
  }

  private async probeEffects(
    plan: ConsumerPlan,
    message: PlannedMessage,
    label: string,
  ): Promise<void> {
    this.record(plan, message, label, await this.readEffects(message));
  }

  /** Polls until every message that must have an effect shows one, or the timeout. */
  /** A delta probe's counter before the pattern's first message (recorded as `baseline`). */
  private async readBaseline(plan: ConsumerPlan): Promise<void> {
    const first = plan.messages[0];
    if (first === undefined) return;
    const reading = await this.readEffects(first);
    if (!reading.ok || !('count' in reading)) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_PROBE_FAILED',
        `scenario '${this.input.scenario.name}': ${plan.id}: the delta effect probe's counter cannot be read before the first message: ${reading.ok ? 'no count' : reading.error}`,
      );
    }
    this.baselines.set(plan.id, reading.count);
    this.record(plan, first, 'before the first message', reading, 'baseline');
  }

  /** A delta probe: the counter now minus before the pattern's first message. */
  private async readDelta(plan: ConsumerPlan): Promise<ProbeReading> {
    const first = plan.messages[0];
    const before = this.baselines.get(plan.id);
    if (first === undefined || before === undefined) return { ok: false, error: 'no baseline' };
    const reading = await this.readEffects(first);
    if (!reading.ok || !('count' in reading)) return reading;
    return { ok: true, count: reading.count - before, before, after: reading.count };
  }

  /**
   * The delta of a pattern: its one message's effects when it has one message that must make
   * one, else the total of all its messages (a probe reading without a key).
   */
  private async probeDelta(plan: ConsumerPlan, label: string): Promise<void> {
    const reading = await this.readDelta(plan);
    const [only, ...others] = plan.messages;
    if (only !== undefined && others.length === 0) {
      this.record(plan, only, label, reading);
      return;
    }
    const { recorder, scenario, effects } = this.input;
    recorder.append({
      type: 'probe',
      scenario: scenario.name,
      probe: 'effects',
      source: effects.source,
      pattern: plan.id,
      patternKind: plan.kind,
      key: null,
      tenant: null,
      marker: null,
      resource: null,
      label: `${label}: all ${plan.messages.length} messages (delta)`,
      reading,
    });
  }

  private async awaitEffects(
    plan: ConsumerPlan,
    refs: readonly number[],
    timeoutMs: number,
    label: string,
  ): Promise<void> {
    if (this.input.effects.delta) {
      const expected = refs.filter((ref) => this.message(plan, ref).expect !== 'none').length;
      const startedAt = performance.now();
      while (performance.now() - startedAt < timeoutMs) {
        const reading = await this.readDelta(plan);
        if (reading.ok && 'count' in reading && reading.count >= expected) return;
        if (!(await this.input.gate.sleep(POLL_MS))) return;
      }
      return;
    }
    const waiting = new Set(
      refs.map((ref) => this.message(plan, ref)).filter((message) => message.expect !== 'none'),
    );
    const startedAt = performance.now();
    while (waiting.size > 0 && performance.now() - startedAt < timeoutMs) {
      for (const message of [...waiting]) {
        const reading = await this.readEffects(message);
        if (reading.ok && 'count' in reading && reading.count > 0) waiting.delete(message);
      }
      if (waiting.size > 0 && !(await this.input.gate.sleep(POLL_MS))) return;
    }
    const waited = Math.round(performance.now() - startedAt);
    for (const message of waiting)
      this.record(
        plan,
        message,
        `${label}: no effect after ${waited} ms`,
        await this.readEffects(message),
      );
  }

  private async probeState(plan: ConsumerPlan, resource: string, label: string): Promise<void> {
    const { readState, recorder, scenario } = this.input;
    const message = plan.messages.find((candidate) => candidate.resource === resource);
    if (readState === undefined || message === undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_SCENARIO',
        `scenario '${scenario.name}': ${plan.id} reads the final state, and the scenario has no state probe (state: {sql: …} or {http: …})`,
      );
    }
    let reading: ProbeReading;
    try {
      const state = await readState(resource, this.vars(message));
      reading = state === ABSENT ? { ok: true, state: null, absent: true } : { ok: true, state };
    } catch (error) {
      reading = { ok: false, error: describeError(error) };
    }
    recorder.append({
      type: 'probe',
      scenario: scenario.name,
      probe: 'state',
      source: scenario.state !== undefined && 'sql' in scenario.state ? 'sql' : 'http',
      pattern: plan.id,
      patternKind: plan.kind,
      key: null,
      tenant: null,
      marker: null,
      resource,
      label,
      reading,
    });
  }

  private async deadLetter(plan: ConsumerPlan, refs: readonly number[]): Promise<void> {
    const messages = refs.map((ref) => this.message(plan, ref));
    await this.input.client.deadLetter(messages.map((message) => this.outgoing(message)));
  }

  private async findDeadLetters(
    plan: ConsumerPlan,
    refs: readonly number[],
    timeoutMs: number,
  ): Promise<void> {
    const { client, scenario } = this.input;
    const messages = refs.map((ref) => this.message(plan, ref));
    let reading: (id: string) => ProbeReading;
    try {
      const found = await client.findDeadLetters(
        messages.map((message) => message.id),
        scenario.message.id.in,
        timeoutMs,
      );
      reading = (id) => ({ ok: true, count: found.includes(id) ? 1 : 0 });
    } catch (error) {
      reading = () => ({ ok: false, error: describeError(error) });
    }
    for (const message of messages)
      this.record(plan, message, 'on the dead-letter queue?', reading(message.id), 'dead-letter');
  }

  private async replay(
    plan: ConsumerPlan,
    refs: readonly number[],
    timeoutMs: number,
  ): Promise<void> {
    const { client, scenario } = this.input;
    const messages = refs.map((ref) => this.message(plan, ref));
    const startedAt = performance.now();
    const moved = await client.replayDeadLetters(
      messages.map((message) => message.id),
      scenario.message.id.in,
      timeoutMs,
    );
    for (const id of moved) {
      const message = messages.find((candidate) => candidate.id === id);
      if (message === undefined) continue;
      this.recordPublish(plan, message, 'replayed from the dead-letter queue', {
        ok: true,
        detail: 'moved back from the dead-letter queue',
        durationMs: Math.round(performance.now() - startedAt),
      });
    }
  }
}
