import { fillPayload, fillText, type TemplateVars } from '../plan/template.js';
import { createRandom, type Random } from '../plan/random.js';
import type { ConsumerPatternSpec, ConsumerScenario } from './schema.js';
import type { PatternKind } from '../history/events.js';

/**
 * The message patterns as plans: the messages each publishes and the steps that publish them,
 * hold and cut the consumer's broker lane, move dead letters and read effects and state. Pure:
 * the same scenario, seed and run give the same plan.
 *
 * Must not: do I/O, or plan a message whose expected effect count is not stated (every
 * message's `expect` says what the checks hold it to).
 */

/** How many effects a message must have once the pattern is over. */
export type ExpectedEffects = 'one' | 'none' | 'one-or-two' | 'two';

export interface PlannedMessage {
  readonly ref: number;
  /** The message id. */
  readonly id: string;
  /** The entity ({{resource}}). */
  readonly resource: string;
  readonly marker: string;
  readonly version: number | null;
  /** Kafka record key. */
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as sent (JSON text, or a poison message's raw text). */
  readonly body: string;
  readonly poison: boolean;
  readonly expect: ExpectedEffects;
}

export type ConsumerStep =
  | {
      readonly kind: 'publish';
      readonly message: number;
      readonly label: string;
      readonly partition?: number;
    }
  | {
      readonly kind: 'publish-together';
      readonly sends: readonly {
        readonly message: number;
        readonly label: string;
        readonly partition?: number;
      }[];
    }
  /** Many distinct messages in one publish (a batch). */
  | { readonly kind: 'publish-batch'; readonly messages: readonly number[]; readonly label: string }
  | { readonly kind: 'sleep'; readonly ms: number }
  /** Hold the consumer's traffic to the broker (its acks) in the lane. */
  | { readonly kind: 'hold-acks'; readonly dependency: string; readonly holdMs: number }
  /** Poll the effects of these messages until each has one, or the timeout. */
  | {
      readonly kind: 'await-effects';
      readonly messages: readonly number[];
      readonly timeoutMs: number;
      readonly label: string;
    }
  /** Close the lane's connections (acks held in it are lost), then let it heal. */
  | { readonly kind: 'cut'; readonly dependency: string }
  | { readonly kind: 'heal'; readonly dependency: string }
  | { readonly kind: 'dead-letter'; readonly messages: readonly number[] }
  | {
      readonly kind: 'replay-dead-letters';
      readonly messages: readonly number[];
      readonly timeoutMs: number;
    }
  /** Read the effects of these messages (the final reading the checks judge). */
  | { readonly kind: 'probe-effects'; readonly messages: readonly number[]; readonly label: string }
  /** Look for these messages on the dead-letter destination (nothing is moved). */
  | {
      readonly kind: 'find-dead-letters';
      readonly messages: readonly number[];
      readonly timeoutMs: number;
    }
  /** Read an entity's state; `expected` is what it must read. */
  | {
      readonly kind: 'probe-state';
      readonly resource: string;
      readonly expected: string;
      readonly label: string;
    };

export interface ConsumerPlan {
  /** e.g. "duplicate-delivery#1". */
  readonly id: string;
  readonly kind: PatternKind;
  readonly name: string | undefined;
  readonly messages: readonly PlannedMessage[];
  readonly steps: readonly ConsumerStep[];
}

interface Context {
  readonly scenario: ConsumerScenario;
  readonly run: string;
  readonly random: Random;
  nextNumber(): number;
}

export function planConsumerScenario(
  scenario: ConsumerScenario,
  options: { readonly seed: number; readonly run: string },
): ConsumerPlan[] {
  let number = 1_000_000;
  const random = createRandom(options.seed);
  const counts = new Map<string, number>();
  return scenario.patterns.map((spec) => {
    const nth = (counts.get(spec.kind) ?? 0) + 1;
    counts.set(spec.kind, nth);
    const context: Context = {
      scenario,
      run: options.run,
      random: random.fork(`${spec.kind}#${nth}`),
      nextNumber: () => (number += 1),
    };
    return planPattern(`${spec.kind}#${nth}`, spec, context);
  });
}

class Builder {
  readonly messages: PlannedMessage[] = [];
  readonly steps: ConsumerStep[] = [];
  constructor(private readonly context: Context) {}

  /** A new message (its own id unless `sameAs` is given: then a copy under the same id). */
  message(
    options: {
      resource?: string;
      version?: number | null;
      poison?: string;
      expect?: ExpectedEffects;
    } = {},
  ): number {
    const { scenario, run, random } = this.context;
    const n = String(this.context.nextNumber());
    const resource = options.resource ?? `e-${run}-${n}`;
    const version = options.version ?? null;
    const base: TemplateVars & { version: string } = {
      key: '',
      tenant: '',
      marker: `${run}-${n}`,
      resource,
      run,
      n,
      sink: '{{sink}}',
      version: version === null ? '' : String(version),
    };
    const id = fillText(scenario.message.id.template, base);
    const vars = { ...base, key: id };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(scenario.message.headers))
      headers[name] = fillText(value, vars);
    const place = scenario.message.id.in;
    if ('header' in place) headers[place.header] = id;
    let body: string;
    if (options.poison !== undefined) {
      body = options.poison;
    } else {
      const filled = fillPayload(scenario.message.payload, vars, random);
      const value =
        'field' in place && filled !== null && typeof filled === 'object' && !Array.isArray(filled)
          ? { ...(filled as Record<string, unknown>), [place.field]: id }
          : filled;
      body = JSON.stringify(withVersion(value, version));
    }
    this.messages.push({
      ref: this.messages.length,
      id,
      resource,
      marker: vars.marker,
      version,
      key: fillText(scenario.message.key ?? '{{resource}}', vars),
      headers,
      body,
      poison: options.poison !== undefined,
      expect: options.expect ?? (options.poison === undefined ? 'one' : 'none'),
    });
    return this.messages.length - 1;
  }

  step(step: ConsumerStep): void {
    this.steps.push(step);
  }

  settleAndProbe(messages: readonly number[], label: string, settleMs?: number): void {
    const { scenario } = this.context;
    this.step({
      kind: 'await-effects',
      messages,
      timeoutMs: scenario.effectTimeoutMs,
      label,
    });
    this.step({ kind: 'sleep', ms: settleMs ?? scenario.settleMs });
    this.step({ kind: 'probe-effects', messages, label });
  }
}

/** A versioned event's body carries its version when the template has a `version` field. */
function withVersion(value: unknown, version: number | null): unknown {
  if (version === null || value === null || typeof value !== 'object' || Array.isArray(value))
    return value;
  const record = value as Record<string, unknown>;
  if (!('version' in record)) return value;
  return { ...record, version };
}

function planPattern(id: string, spec: ConsumerPatternSpec, context: Context): ConsumerPlan {
  const plan = new Builder(context);
  const { scenario, random } = context;
  switch (spec.kind) {
    case 'duplicate-delivery': {
      const message = plan.message();
      for (let copy = 1; copy <= spec.count; copy += 1) {
        if (copy > 1 && spec.spreadMs > 0) plan.step({ kind: 'sleep', ms: spec.spreadMs });
        plan.step({ kind: 'publish', message, label: `delivery ${copy} of ${spec.count}` });
      }
      plan.settleAndProbe([message], 'after the duplicate deliveries', spec.settleMs);
      break;
    }
    case 'redelivery': {
      const message = plan.message();
      plan.step({ kind: 'hold-acks', dependency: spec.dependency, holdMs: spec.holdMs });
      plan.step({ kind: 'publish', message, label: 'original' });
      plan.step({
        kind: 'await-effects',
        messages: [message],
        timeoutMs: scenario.effectTimeoutMs,
        label: 'processed, ack held',
      });
      plan.step({ kind: 'cut', dependency: spec.dependency });
      if (spec.downMs > 0) plan.step({ kind: 'sleep', ms: spec.downMs });
      plan.step({ kind: 'heal', dependency: spec.dependency });
      plan.step({ kind: 'sleep', ms: spec.redeliveryWaitMs });
      plan.step({ kind: 'probe-effects', messages: [message], label: 'after the redelivery' });
      break;
    }
    case 'concurrent-duplicates': {
      const message = plan.message();
      plan.step({
        kind: 'publish-together',
        sends: Array.from({ length: spec.count }, (_, index) => ({
          message,
          label: `copy ${index + 1} of ${spec.count} (at once)`,
          ...(spec.spreadPartitions ? { partition: index } : {}),
        })),
      });
      plan.settleAndProbe([message], 'after the concurrent copies', spec.settleMs);
      break;
    }
    case 'shuffled-versions': {
      const resource = `e-${context.run}-${context.nextNumber()}`;
      const versions = Array.from({ length: spec.versions }, (_, index) => index + 1);
      const messages = versions.map((version) => plan.message({ resource, version }));
      const order = shuffled(messages, random);
      // The highest version never comes last: a last-write-wins consumer must show it.
      if (order.at(-1) === messages.at(-1) && order.length > 1) order.reverse();
      for (const message of order) {
        const planned = plan.messages[message];
        plan.step({
          kind: 'publish',
          message,
          label: `version ${planned?.version ?? '?'} of ${spec.versions}`,
        });
      }
      plan.settleAndProbe(messages, 'after the shuffled versions', spec.settleMs);
      const vars = { version: String(spec.versions), resource };
      plan.step({
        kind: 'probe-state',
        resource,
        expected: scenario.expectedState.replace(
          /\{\{\s*(version|resource)\s*\}\}/g,
          (_match, name: 'version' | 'resource') => vars[name],
        ),
        label: 'final state',
      });
      break;
    }
    case 'dlq-replay': {
      const messages = Array.from({ length: spec.window }, () => plan.message());
      for (const [index, message] of messages.entries())
        plan.step({ kind: 'publish', message, label: `window ${index + 1} of ${spec.window}` });
      plan.step({
        kind: 'await-effects',
        messages,
        timeoutMs: scenario.effectTimeoutMs,
        label: 'window processed',
      });
      plan.step({ kind: 'dead-letter', messages });
      plan.step({ kind: 'replay-dead-letters', messages, timeoutMs: spec.timeoutMs });
      plan.step({ kind: 'sleep', ms: spec.settleMs ?? scenario.settleMs });
      plan.step({ kind: 'probe-effects', messages, label: 'after the dead-letter replay' });
      break;
    }
    case 'poison-message': {
      // One entity: on Kafka the followers share the poison message's key, so its partition.
      const resource = `e-${context.run}-${context.nextNumber()}`;
      const poison = plan.message({ poison: spec.poison, resource });
      const followers = Array.from({ length: spec.followers }, () => plan.message({ resource }));
      plan.step({ kind: 'publish', message: poison, label: 'poison' });
      for (const [index, message] of followers.entries())
        plan.step({
          kind: 'publish',
          message,
          label: `after the poison ${index + 1} of ${spec.followers}`,
        });
      plan.settleAndProbe([poison, ...followers], 'after the poison message', spec.settleMs);
      if (spec.deadLetter === 'required')
        plan.step({
          kind: 'find-dead-letters',
          messages: [poison],
          timeoutMs: scenario.effectTimeoutMs,
        });
      break;
    }
    case 'stream': {
      const messages = Array.from({ length: spec.count }, () => plan.message());
      for (let start = 0; start < messages.length; start += spec.batch) {
        const batch = messages.slice(start, start + spec.batch);
        plan.step({
          kind: 'publish-batch',
          messages: batch,
          label: `stream ${start + 1}-${start + batch.length} of ${spec.count}`,
        });
      }
      plan.settleAndProbe(messages, 'after the stream', spec.settleMs);
      break;
    }
    case 'after-retention': {
      const expect: Record<ConsumerScenario['dedupe']['afterRetention'], ExpectedEffects> = {
        dedupe: 'one',
        reprocess: 'two',
        either: 'one-or-two',
      };
      const message = plan.message({ expect: expect[scenario.dedupe.afterRetention] });
      plan.step({ kind: 'publish', message, label: 'original' });
      plan.step({
        kind: 'await-effects',
        messages: [message],
        timeoutMs: scenario.effectTimeoutMs,
        label: 'original processed',
      });
      plan.step({ kind: 'sleep', ms: spec.delayMs });
      plan.step({ kind: 'publish', message, label: `duplicate ${spec.delayMs} ms later` });
      plan.step({ kind: 'sleep', ms: spec.settleMs ?? scenario.settleMs });
      plan.step({ kind: 'probe-effects', messages: [message], label: 'after the late duplicate' });
      break;
    }
  }
  return { id, kind: spec.kind, name: spec.name, messages: plan.messages, steps: plan.steps };
}

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = random.int(0, index);
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/** How many publishes a consumer scenario's plans make (for --max-requests and progress). */
export function consumerPublishCount(plans: readonly ConsumerPlan[]): number {
  let count = 0;
  for (const plan of plans) {
    for (const step of plan.steps) {
      if (step.kind === 'publish') count += 1;
      if (step.kind === 'publish-together') count += step.sends.length;
      if (step.kind === 'publish-batch') count += step.messages.length;
    }
  }
  return count;
}
