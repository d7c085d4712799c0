import type { PayloadVariant } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import type { LaneName, PatternSpec, Scenario } from '../scenario/schema.js';
import type { Random } from './random.js';
import type { BurstRelease, Operation, PatternPlan, SendStep, Step } from './schedule.js';
import { differentPayload, fillPayload, fillText, type TemplateVars } from './template.js';

/** What every pattern planner gets: the scenario, its profile and the seeded random source. */
export interface PlanContext {
  readonly scenario: Scenario;
  readonly profile: Profile;
  /** The run id that makes keys fresh; part of every key and marker. */
  readonly run: string;
  readonly random: Random;
  /** A counter shared by the whole scenario, so keys and markers never repeat. */
  nextNumber(): number;
}

export interface SendOptions {
  readonly label: string;
  readonly variant?: PayloadVariant;
  readonly lane?: LaneName;
  readonly keySent?: boolean;
  readonly tenant?: string | null;
  readonly group?: string | null;
  readonly timeoutMs?: number;
  readonly background?: boolean;
}

/**
 * Builds one pattern's plan step by step. {{sink}} stays a placeholder: only the executor
 * knows the sink's address.
 */
export class PatternBuilder {
  private readonly operations: Operation[] = [];
  private readonly steps: Step[] = [];
  private readonly notes: string[] = [];
  readonly tenant: string | null;

  constructor(
    readonly context: PlanContext,
    readonly spec: PatternSpec,
    private readonly id: string,
  ) {
    this.tenant = spec.tenant ?? null;
  }

  /** A new logical operation with a fresh key and marker. */
  operation(
    options: {
      template?: unknown;
      resource?: string | null;
      sequence?: number | null;
      payload?: unknown;
    } = {},
  ): number {
    const { scenario, run, random } = this.context;
    const n = String(this.context.nextNumber());
    // Every operation acts on its own resource unless the pattern shares one (out-of-order).
    const resource = options.resource ?? `r-${run}-${n}`;
    const base: TemplateVars = {
      key: '',
      tenant: this.tenant ?? '',
      marker: `${run}-${n}`,
      resource,
      run,
      n,
      sink: '{{sink}}',
    };
    const key = fillText(scenario.key.template, base);
    const vars = { ...base, key };
    const payload =
      options.payload ?? fillPayload(options.template ?? scenario.payload.template, vars, random);
    this.operations.push({
      ref: this.operations.length,
      key,
      marker: vars.marker,
      payload,
      differentPayload: differentPayload(payload, scenario.payload.different),
      resource,
      sequence: options.sequence ?? null,
    });
    return this.operations.length - 1;
  }

  /** A resource id for patterns that act on one resource. */
  resource(): string {
    return `r-${this.context.run}-${this.context.nextNumber()}`;
  }

  payloadOf(op: number): unknown {
    return this.operations[op]?.payload;
  }

  sendStep(op: number, options: SendOptions): SendStep {
    return {
      kind: 'send',
      op,
      label: options.label,
      variant: options.variant ?? 'original',
      lane: options.lane ?? 'clean',
      keySent: options.keySent ?? true,
      tenant: options.tenant === undefined ? this.tenant : options.tenant,
      group: options.group ?? null,
      timeoutMs: options.timeoutMs ?? this.context.scenario.target.timeoutMs,
      background: options.background ?? false,
    };
  }

  send(op: number, options: SendOptions): this {
    this.steps.push(this.sendStep(op, options));
    return this;
  }

  burst(sends: readonly SendStep[], release: BurstRelease = 'last-byte'): this {
    this.steps.push({ kind: 'burst', sends, release });
    return this;
  }

  sleep(ms: number): this {
    if (ms > 0) this.steps.push({ kind: 'sleep', ms });
    return this;
  }

  join(): this {
    this.steps.push({ kind: 'join' });
    return this;
  }

  /** Counts the effects of an operation's key after the configured settle time. */
  probeEffects(
    op: number,
    label: string,
    tenant: string | null = this.tenant,
    settle = true,
  ): this {
    if (settle) this.sleep(this.context.scenario.settleMs);
    this.steps.push({ kind: 'probe-effects', op, tenant, label });
    return this;
  }

  probeKeyless(op: number, label: string): this {
    this.sleep(this.context.scenario.settleMs);
    this.steps.push({ kind: 'probe-keyless', op, tenant: this.tenant, label });
    return this;
  }

  probeState(op: number, label: string): this {
    this.sleep(this.context.scenario.settleMs);
    this.steps.push({ kind: 'probe-state', op, tenant: this.tenant, label });
    return this;
  }

  note(text: string): this {
    this.notes.push(text);
    return this;
  }

  build(): PatternPlan {
    return {
      id: this.id,
      kind: this.spec.kind,
      name: this.spec.name ?? this.id,
      headers: this.spec.headers ?? {},
      operations: this.operations,
      steps: this.steps,
      notes: this.notes,
    };
  }
}
