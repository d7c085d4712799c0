import type { HistoryEvent } from '../history/events.js';
import type { PatternPlan } from '../plan/schedule.js';
import type { Profile } from '../scenario/profile.js';

/** Three-valued validity; merge with `mergeValidity`: false beats unknown beats true. */
export type Validity = true | false | 'unknown';

/** One thing that went wrong, told so an engineer can act on it. */
export interface Anomaly {
  /** Stable kind, e.g. "duplicate-effect", "replay-body-differs", "mismatch-accepted". */
  readonly kind: string;
  readonly key: string | null;
  readonly tenant: string | null;
  /** History indexes of the events that show it (invokes, completions, probes). */
  readonly events: readonly number[];
  /** What the profile or contract required. */
  readonly expected: string;
  /** What happened. */
  readonly actual: string;
  /** One or two sentences: what happened, why it matters, where to look. */
  readonly message: string;
  /** A curl command that sends the request at the heart of the anomaly to the target. */
  readonly curl?: string;
}

export interface CheckResult {
  /** The checker's name, e.g. "effectsPerKey". */
  readonly checker: string;
  readonly valid: Validity;
  /** How many items (keys, operations) the checker examined; 0 means nothing applied. */
  readonly checked: number;
  readonly anomalies: readonly Anomaly[];
  /** Why a result is unknown, or what was skipped, in plain sentences. */
  readonly notes: readonly string[];
}

export interface CheckContext {
  readonly profile: Profile;
  /** The plans the history was made from: what scripted steps expect (stepExpectations). */
  readonly plans?: readonly PatternPlan[];
}

/**
 * A checker is a pure, synchronous function of the history of one scenario. It never touches
 * the network, the clock or the database, and it never throws on strange histories: it
 * returns `unknown` with a note instead (the composer also catches crashes).
 */
export type Checker = (history: readonly HistoryEvent[], context: CheckContext) => CheckResult;

export function mergeValidity(a: Validity, b: Validity): Validity {
  if (a === false || b === false) return false;
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  return true;
}
