import type { HistoryEvent } from '../history/events.js';
import type { Anomaly, CheckContext, CheckResult, Checker, Validity } from './types.js';
import { capitalize, listWithMore } from './wording.js';

/**
 * What one checker found while it walked the history: anomalies, the parts it could not
 * decide (each with a subject and a reason), plain notes, and how many items it examined.
 * Validity follows from it: false if any anomaly, else unknown if any part is unknown, else
 * true. Nothing examined means "not applicable", which holds.
 */
export interface Findings {
  checked: number;
  readonly anomalies: Anomaly[];
  readonly unknowns: { readonly subject: string; readonly reason: string }[];
  readonly notes: string[];
}

export function newFindings(): Findings {
  return { checked: 0, anomalies: [], unknowns: [], notes: [] };
}

/** Adds an anomaly with its event indexes sorted and without repeats. */
export function addAnomaly(findings: Findings, anomaly: Anomaly): void {
  const events = [...new Set(anomaly.events)].sort((a, b) => a - b);
  findings.anomalies.push({ ...anomaly, events });
}

export function validityOf(findings: Findings): Validity {
  if (findings.anomalies.length > 0) return false;
  return findings.unknowns.length > 0 ? 'unknown' : true;
}

/** One note per reason: "Key 'a', key 'b' and 3 more: the effect probe failed: timeout." */
function unknownNotes(unknowns: Findings['unknowns']): string[] {
  const byReason = new Map<string, string[]>();
  for (const { subject, reason } of unknowns) {
    const subjects = byReason.get(reason) ?? [];
    if (!subjects.includes(subject)) subjects.push(subject);
    byReason.set(reason, subjects);
  }
  return [...byReason].map(
    ([reason, subjects]) => `${capitalize(listWithMore(subjects))}: ${reason}.`,
  );
}

export function resultOf(checker: string, findings: Findings, notApplicable: string): CheckResult {
  const applies =
    findings.checked > 0 || findings.anomalies.length > 0 || findings.unknowns.length > 0;
  return {
    checker,
    valid: validityOf(findings),
    checked: findings.checked,
    anomalies: findings.anomalies,
    notes: [
      ...unknownNotes(findings.unknowns),
      ...findings.notes,
      ...(applies ? [] : [`not applicable: ${notApplicable}`]),
    ],
  };
}

/** The result of a checker that threw: unknown, with the error, never a crashed run. */
export function crashResult(checker: string, error: unknown): CheckResult {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    checker,
    valid: 'unknown',
    checked: 0,
    anomalies: [],
    notes: [
      `checker crashed: ${detail}. This is a bug in idemproof, not in your API; please report ` +
        "it with the run's history file.",
    ],
  };
}

/**
 * Makes a Checker from a function that fills findings. The result is built the same way for
 * every checker, and a crash on a strange history becomes an unknown result, never a throw.
 */
export function defineChecker(
  name: string,
  notApplicable: string,
  examine: (history: readonly HistoryEvent[], context: CheckContext, findings: Findings) => void,
): Checker {
  return (history, context) => {
    try {
      const findings = newFindings();
      examine(history, context, findings);
      return resultOf(name, findings, notApplicable);
    } catch (error) {
      return crashResult(name, error);
    }
  };
}
