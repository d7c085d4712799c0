/**
 * What a scripted step must get back, as plain data in the plan: statuses already resolved
 * from the profile, header names lower-cased. The `stepExpectations` checker reads these from
 * the plans and finds each step's attempt (and effect reading) by pattern id and label.
 *
 * Must not: hold anything a checker cannot judge from the history alone.
 */

export type HeaderRule =
  | { readonly name: string; readonly rule: 'present' }
  | { readonly name: string; readonly rule: 'absent' }
  | { readonly name: string; readonly rule: 'equals'; readonly value: string }
  | { readonly name: string; readonly rule: 'matches'; readonly pattern: string };

export type BodyRule =
  /** The same bytes (SHA-256) as the response of an earlier step. */
  | { readonly rule: 'same-as'; readonly step: number; readonly id: string; readonly label: string }
  | { readonly rule: 'equals'; readonly text: string }
  | { readonly rule: 'contains'; readonly text: string }
  | {
      readonly rule: 'json';
      readonly path: string;
      readonly value: string | number | boolean | null;
    }
  | { readonly rule: 'bytes'; readonly bytes: number };

export interface StatusRule {
  /** Allowed statuses; 'success' allows any 2xx. */
  readonly allowed: readonly number[] | 'success';
  /** Where the statuses come from when not written literally, e.g. "profile ietf mismatchStatus". */
  readonly source: string | null;
}

export interface StepExpectation {
  /** 1-based position of the step in its pattern. */
  readonly step: number;
  readonly id: string;
  /** The label of the step's attempt in the history. */
  readonly label: string;
  readonly status: StatusRule | null;
  readonly headers: readonly HeaderRule[];
  readonly body: readonly BodyRule[];
  /** Expected effect count and the label of the probe that reads it. */
  readonly effects: { readonly count: number; readonly probeLabel: string } | null;
}
