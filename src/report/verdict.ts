import type { CheckResult } from '../check/types.js';
import type { RunResult, ScenarioResult } from '../run/result.js';
import { defectCountText, runDefects } from './defect-view.js';

/**
 * How every reporter reads a check and a run, so the terminal, the HTML page and junit.xml
 * never disagree. Pure functions of the result.
 */

/** A check's state as shown to people: holds, violated, undecided, or nothing to check. */
export type CheckStatus = 'pass' | 'fail' | 'unknown' | 'not-applicable';

export function checkStatus(check: CheckResult): CheckStatus {
  if (check.valid === false) return 'fail';
  if (check.valid === 'unknown') return 'unknown';
  return check.checked === 0 ? 'not-applicable' : 'pass';
}

export const STATUS_SYMBOL: Readonly<Record<CheckStatus, string>> = {
  pass: '✓',
  fail: '✗',
  unknown: '?',
  'not-applicable': '–',
};

export const STATUS_WORD: Readonly<Record<CheckStatus, string>> = {
  pass: 'holds',
  fail: 'violated',
  unknown: 'unknown',
  'not-applicable': 'not applicable',
};

export interface Tally {
  readonly scenarios: number;
  readonly checks: number;
  readonly passed: number;
  readonly failed: number;
  readonly unknown: number;
  readonly notApplicable: number;
  /** Anomalies of violated checks. */
  readonly violations: number;
  /** Distinct defects the violations group into. */
  readonly defects: number;
  /** Scenarios that stopped early with an error. */
  readonly errors: number;
  readonly attempts: number;
}

export function tally(result: RunResult): Tally {
  let checks = 0;
  let passed = 0;
  let failed = 0;
  let unknown = 0;
  let notApplicable = 0;
  let violations = 0;
  let errors = 0;
  let attempts = 0;
  for (const scenario of result.scenarios) {
    if (scenario.error !== null) errors++;
    attempts += scenario.attempts.total;
    for (const check of scenario.checks) {
      checks++;
      const status = checkStatus(check);
      if (status === 'pass') passed++;
      else if (status === 'fail') {
        failed++;
        violations += check.anomalies.length;
      } else if (status === 'unknown') unknown++;
      else notApplicable++;
    }
  }
  return {
    scenarios: result.scenarios.length,
    checks,
    passed,
    failed,
    unknown,
    notApplicable,
    violations,
    defects: runDefects(result).length,
    errors,
    attempts,
  };
}

export type VerdictState = 'pass' | 'fail' | 'unknown';

export interface Verdict {
  readonly state: VerdictState;
  /** "PASS" | "FAIL" | "UNKNOWN". */
  readonly word: string;
  /** One line: "FAIL: 3 violations in 2 checks". */
  readonly headline: string;
  readonly tally: Tally;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "INTERRUPTED", "CRASHED" or "STOPPED" for a run cut short, else undefined. */
export function stopWord(result: RunResult): string | undefined {
  const stopped = result.stopped ?? null;
  if (stopped === null) return undefined;
  if (stopped.kind === 'interrupted') return 'INTERRUPTED';
  return stopped.kind === 'crashed' ? 'CRASHED' : 'STOPPED';
}

/** One sentence on a run cut short: why, and how much of the plan ran. */
export function stopSentence(result: RunResult, attempts: number): string | undefined {
  const stopped = result.stopped ?? null;
  if (stopped === null) return undefined;
  return `${stopWord(result) ?? 'STOPPED'}: ${stopped.detail}, after ${attempts} of ${plural(stopped.attemptsPlanned, 'planned attempt')}; the checks cover only what was recorded`;
}

/** "3 defects (161 violations) in 9 checks". */
function violatedText(counts: Tally): string {
  return `${defectCountText(counts.defects, counts.violations)} in ${plural(counts.failed, 'check')}`;
}

/** The run's verdict; the state is the run's own `valid`, the numbers come from its checks. */
export function verdictOf(result: RunResult): Verdict {
  const counts = tally(result);
  const cut = stopSentence(result, counts.attempts);
  if (cut !== undefined) {
    const violated = result.valid === false ? `FAIL: ${violatedText(counts)} · ` : '';
    return {
      state: result.valid === false ? 'fail' : 'unknown',
      word: stopWord(result) ?? 'STOPPED',
      headline: `${violated}${cut}`,
      tally: counts,
    };
  }
  const stopped = counts.errors > 0 ? ` · ${plural(counts.errors, 'scenario')} stopped early` : '';
  if (result.valid === false) {
    const undecided = counts.unknown > 0 ? ` · ${plural(counts.unknown, 'check')} unknown` : '';
    return {
      state: 'fail',
      word: 'FAIL',
      headline: `FAIL: ${violatedText(counts)}${undecided}${stopped}`,
      tally: counts,
    };
  }
  if (result.valid === 'unknown') {
    return {
      state: 'unknown',
      word: 'UNKNOWN',
      headline: `UNKNOWN: ${counts.unknown} of ${plural(counts.checks, 'check')} could not decide${stopped}`,
      tally: counts,
    };
  }
  const notApplicable = counts.notApplicable > 0 ? `, ${counts.notApplicable} not applicable` : '';
  return {
    state: 'pass',
    word: 'PASS',
    headline: `PASS: every check holds (${plural(counts.checks, 'check')} in ${plural(counts.scenarios, 'scenario')}${notApplicable})`,
    tally: counts,
  };
}

/** Checker names in order of first appearance over all scenarios (the table's columns). */
export function checkerNames(scenarios: readonly ScenarioResult[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const scenario of scenarios) {
    for (const check of scenario.checks) {
      if (!seen.has(check.checker)) {
        seen.add(check.checker);
        names.push(check.checker);
      }
    }
  }
  return names;
}

/** Milliseconds as people read them: "850 ms", "12.4 s", "3 min 05 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}
