import type { PatternKind, PayloadVariant } from '../history/events.js';
import type { LaneName } from '../scenario/schema.js';

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
    }
  | { readonly kind: 'sleep'; readonly ms: number }
  /** Wait for every background attempt of the pattern to finish. */
  | { readonly kind: 'join' }
  | {
      readonly kind: 'probe-effects' | 'probe-keyless' | 'probe-state';
      readonly op: number;
      readonly tenant: string | null;
      readonly label: string;
    };

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
