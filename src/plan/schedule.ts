import type { PatternKind, PayloadVariant } from '../history/events.js';
import type { LaneName } from '../scenario/schema.js';
import type { DependencyFault } from '../scenario/schema-chaos.js';
import type { StepExpectation } from './expectations.js';

/**
 * A plan is plain data: the operations of a pattern and the steps that send them. The same
 * scenario, seed and run id always give the same plan; the executor only carries it out.
 */

export type BurstRelease = 'last-byte' | 'plain';

/** One logical operation: a key, a payload, and a marker unique to it. */
export interface Operation {
  readonly ref: number;
  readonly key: string;
  readonly marker: string;
  readonly payload: unknown;
  readonly differentPayload: unknown;
  /** The resource acted on (out-of-order), filled into {{resource}}. */
  readonly resource: string | null;
  /** Position in the intended order on its resource. */
  readonly sequence: number | null;
}

/** How a request body is encoded on the wire. */
export type BodyEncoding = 'json' | 'form' | 'multipart' | 'text' | 'binary' | 'none';

/**
 * Changes to the scenario's request for one attempt: per-attempt overrides (first attempt
 * only, retries only), the different variant of a mismatch test, and the steps of a scripted
 * pattern. Strings are templates, filled like the scenario's own.
 */
export interface RequestOverride {
  readonly method?: string;
  /** A path template replacing `target.path` (may carry a query string). */
  readonly path?: string;
  /** Query parameters added or replaced; null removes one. */
  readonly query?: Readonly<Record<string, string | null>>;
  /** Headers added or replaced, with the case written; null removes one. */
  readonly headers?: Readonly<Record<string, string | null>>;
  /** A body replacing the operation's payload; `encoding` defaults to the scenario's. */
  readonly body?: { readonly value: unknown; readonly encoding?: BodyEncoding };
  /** A literal key sent instead of the operation's (e.g. empty, very long, non-ASCII). */
  readonly key?: string;
}

export interface SendStep {
  readonly kind: 'send';
  /** Index into the pattern's operations. */
  readonly op: number;
  readonly label: string;
  readonly variant: PayloadVariant;
  readonly lane: LaneName;
  readonly keySent: boolean;
  readonly tenant: string | null;
  /** Sends released together share a group. */
  readonly group: string | null;
  readonly timeoutMs: number;
  /** Do not wait for this attempt before the next step (it overlaps what follows). */
  readonly background: boolean;
  /** Sent on purpose after the declared retention: the key is expected to execute again. */
  readonly afterRetention?: true;
  /** Changes to the request for this attempt only. */
  readonly override?: RequestOverride;
}

export type Step =
  | SendStep
  | {
      readonly kind: 'burst';
      readonly sends: readonly SendStep[];
      /** last-byte: synchronised release (default); plain: all sent at once, as fetch would. */
      readonly release: BurstRelease;
      /** last-byte: the settle pause before the release, in ms or 'auto' (the default). */
      readonly releasePauseMs?: number | 'auto';
    }
  | { readonly kind: 'sleep'; readonly ms: number }
  /** Wait for every background attempt of the pattern to finish. */
  | { readonly kind: 'join' }
  | {
      /** probe-baseline: a delta probe's counter before the operation's first attempt. */
      readonly kind: 'probe-effects' | 'probe-keyless' | 'probe-state' | 'probe-baseline';
      readonly op: number;
      readonly tenant: string | null;
      readonly label: string;
    }
  | HookStepRun
  | FollowUpStep
  | DependencyStep
  | CrashStep;

/**
 * The target is crashed and started again with the scenario's `process` commands (kill, start,
 * wait until ready). `when` is the moment of the kill: `after-effect` once the effect probe
 * reads an effect of `op` or every attempt in flight has answered, whichever comes first;
 * `in-flight` as soon as every attempt in flight but the oldest has answered (a duplicate
 * refused while the first runs), or at an effect; `now` at once. The wait lasts at most `waitMs`.
 */
export interface CrashStep {
  readonly kind: 'crash';
  readonly when: 'after-effect' | 'in-flight' | 'now';
  readonly op: number;
  readonly tenant: string | null;
  readonly label: string;
  readonly waitMs: number;
}

/** A fault put in place in (or healed from) one of the scenario's dependencies. */
export type DependencyStep =
  | {
      readonly kind: 'dependency-fault';
      readonly dependency: string;
      readonly fault: DependencyFault;
      /** fail-closed: attempts answered while it is held must get no 2xx and make no effect. */
      readonly expect: 'fail-closed' | 'any';
    }
  | { readonly kind: 'dependency-heal'; readonly dependency: string };

/**
 * A liveness follow-up after an operation's planned attempts. Only when the latest answer was
 * in progress (one of `inFlightStatus`) or unknown, `send` (same key and payload, clean lane)
 * is sent again every `intervalMs` until the answer is something else, or until an attempt
 * started `waitMs` after the last attempt that may hold the key (one not refused as in
 * progress) started; at most `maxAttempts` sends. A key that is not in progress costs nothing.
 */
export interface FollowUpStep {
  readonly kind: 'follow-up';
  readonly send: SendStep;
  readonly inFlightStatus: readonly number[];
  readonly waitMs: number;
  readonly intervalMs: number;
  readonly maxAttempts: number;
}

/**
 * The scenario's hook requests of one phase (`hooks.reset` before the pattern, per-key setup
 * before an operation's first attempt, per-key teardown after the pattern), sent straight to
 * the target. `op` is the operation a per-key hook is for (null for reset).
 */
export interface HookStepRun {
  readonly kind: 'hook';
  readonly phase: 'reset' | 'key-setup' | 'key-teardown';
  readonly op: number | null;
  readonly tenant: string | null;
}

export interface PatternPlan {
  /** e.g. "concurrent-burst#2". */
  readonly id: string;
  readonly kind: PatternKind;
  readonly name: string;
  /** Extra headers for every request of this pattern. */
  readonly headers: Readonly<Record<string, string>>;
  readonly operations: readonly Operation[];
  readonly steps: readonly Step[];
  /** What the planner left out and why (e.g. a delay beyond the declared retention). */
  readonly notes: readonly string[];
  /** What the steps of a scripted pattern must get back (the `steps` pattern only). */
  readonly expectations?: readonly StepExpectation[];
}

/** How many attempts a plan will make: the progress bar's total. */
export function attemptCount(plans: readonly PatternPlan[]): number {
  let count = 0;
  for (const plan of plans) {
    for (const step of plan.steps) {
      if (step.kind === 'send') count += 1;
      if (step.kind === 'burst') count += step.sends.length;
    }
  }
  return count;
}
