import type { PayloadVariant } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import type { LaneName, PatternSpec, Scenario } from '../scenario/schema.js';
import type { StepExpectation } from './expectations.js';
import type { Random } from './random.js';
import type {
  BurstRelease,
  CrashStep,
  FollowUpStep,
  Operation,
  PatternPlan,
  RequestOverride,
  SendStep,
  Step,
} from './schedule.js';
import { capturePlaceholders } from './flow-steps.js';
import { differentParts } from '../scenario/schema-request.js';
import { attemptOverride, differentOverride, mergeOverrides } from './override.js';
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
  /** Sent on purpose after the declared retention: the key is expected to execute again. */
  readonly afterRetention?: boolean;
  /** Changes to the request for this attempt only. */
  readonly override?: RequestOverride;
}

/** The longest a liveness follow-up sends; it gives up once the timeout has been judged. */
const FOLLOW_UP_MAX_ATTEMPTS = 20;

/**
 * A follow-up that waits the profile's in-progress timeout plus a margin (a fifth of it, at
 * least 1 s), asking every fifth of it (at least 250 ms apart); none without a timeout.
 */
export function followUpStep(profile: Profile, send: SendStep): FollowUpStep | undefined {
  const timeoutMs = profile.inProgressTimeoutMs;
  if (timeoutMs === null) return undefined;
  const intervalMs = Math.max(250, Math.round(timeoutMs / 5));
  const waitMs = timeoutMs + Math.max(1000, Math.round(timeoutMs / 5));
  return {
    kind: 'follow-up',
    send,
    inFlightStatus: profile.inFlightStatus,
    waitMs,
    intervalMs,
    maxAttempts: Math.min(FOLLOW_UP_MAX_ATTEMPTS, Math.ceil(waitMs / intervalMs) + 2),
  };
}

/**
 * Builds one pattern's plan step by step. {{sink}} stays a placeholder: only the executor
 * knows the sink's address.
 */
export class PatternBuilder {
  private readonly operations: Operation[] = [];
  private readonly steps: Step[] = [];
  private readonly notes: string[] = [];
  /** The template values of each operation, and which operations were sent already. */
  private readonly operationVars: TemplateVars[] = [];
  private readonly attempted = new Set<number>();
  private readonly expectations: StepExpectation[] = [];
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
      // Values captured by hooks are known only when the plan runs: their placeholders stay.
      ...capturePlaceholders(scenario),
    };
    const key = fillText(this.spec.key ?? scenario.key.template, base);
    const vars = { ...base, key };
    this.operationVars.push(vars);
    const payload =
      options.payload ?? fillPayload(options.template ?? scenario.payload.template, vars, random);
    const { different, encoding } = scenario.payload;
    const differentBody = differentParts(different)?.body;
    this.operations.push({
      ref: this.operations.length,
      key,
      marker: vars.marker,
      payload,
      differentPayload:
        differentBody === undefined
          ? differentPayload(payload, different, encoding)
          : fillPayload(differentBody, vars, random),
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
    // The first attempt of an operation gets the spec's `first` changes, later ones `retries`.
    const first = !this.attempted.has(op);
    this.attempted.add(op);
    const vars = this.operationVars[op];
    const variant = options.variant ?? 'original';
    const override = mergeOverrides(
      mergeOverrides(
        variant === 'different' ? differentOverride(this.context.scenario) : undefined,
        vars === undefined
          ? undefined
          : attemptOverride(this.spec, first, vars, this.context.random),
      ),
      options.override,
    );
    return {
      kind: 'send',
      op,
      label: options.label,
      variant,
      lane: options.lane ?? 'clean',
      keySent: options.keySent ?? true,
      tenant: options.tenant === undefined ? this.tenant : options.tenant,
      group: options.group ?? null,
      timeoutMs: options.timeoutMs ?? this.spec.timeoutMs ?? this.context.scenario.target.timeoutMs,
      background: options.background ?? false,
      ...(options.afterRetention === true ? { afterRetention: true as const } : {}),
      ...(override === undefined ? {} : { override }),
    };
  }

  send(op: number, options: SendOptions): this {
    this.steps.push(this.sendStep(op, options));
    return this;
  }

  burst(
    sends: readonly SendStep[],
    release: BurstRelease = 'last-byte',
    releasePauseMs: number | 'auto' = 'auto',
  ): this {
    this.steps.push({
      kind: 'burst',
      sends,
      release,
      ...(releasePauseMs === 'auto' ? {} : { releasePauseMs }),
    });
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

  /**
   * After an operation's planned attempts: if its key is still answering in progress (or the
   * last outcome is unknown), retry it on the clean lane until the profile's
   * inProgressTimeoutMs has passed, so the keyNotStuck checker can judge it (followUpStep).
   */
  followUp(op: number): this {
    const step = followUpStep(this.context.profile, this.sendStep(op, { label: 'follow-up' }));
    if (step !== undefined) this.steps.push(step);
    return this;
  }

  /** Counts the effects of an operation's key after the configured settle time. */
  probeEffects(
    op: number,
    label: string,
    tenant: string | null = this.tenant,
    settle = true,
  ): this {
    // Without an effect probe, the loader allowed only patterns judged by other readings.
    if (this.context.scenario.effects === undefined) return this;
    if (settle) this.sleep(this.settleMs);
    this.steps.push({ kind: 'probe-effects', op, tenant, label });
    return this;
  }

  /** The wait before a probe: the pattern's settleMs, else the scenario's. */
  get settleMs(): number {
    return this.spec.settleMs ?? this.context.scenario.settleMs;
  }

  probeKeyless(op: number, label: string): this {
    this.sleep(this.settleMs);
    this.steps.push({ kind: 'probe-keyless', op, tenant: this.tenant, label });
    return this;
  }

  probeState(op: number, label: string): this {
    this.sleep(this.settleMs);
    this.steps.push({ kind: 'probe-state', op, tenant: this.tenant, label });
    return this;
  }

  /** Crashes and restarts the target (crash and cold-start-replay patterns): see CrashStep. */
  crash(op: number, when: CrashStep['when'], label: string, waitMs: number): this {
    this.steps.push({ kind: 'crash', op, tenant: this.tenant, label, when, waitMs });
    return this;
  }

  /** What a scripted step must get back (the stepExpectations checker judges it). */
  expect(expectation: StepExpectation): this {
    this.expectations.push(expectation);
    return this;
  }

  /** A step with no options of its own (e.g. a dependency fault or heal). */
  step(step: Step): this {
    this.steps.push(step);
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
      ...(this.expectations.length > 0 ? { expectations: this.expectations } : {}),
    };
  }
}
