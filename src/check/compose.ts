import type { HistoryEvent } from '../history/events.js';
import { DEFAULT_CHECKERS } from './default-checkers.js';
import { crashResult } from './findings.js';
import {
  mergeValidity,
  type CheckContext,
  type CheckResult,
  type Checker,
  type Validity,
} from './types.js';

/**
 * Runs named checkers over the history of one scenario, in the record's order, and names each
 * result after its entry in the record. A checker that throws, or returns something that is
 * not a result, yields an `unknown` result with a "checker crashed" note; the others still run.
 *
 * Must not: let one checker's failure hide the others' results, or change the history.
 */
export function runChecks(
  history: readonly HistoryEvent[],
  context: CheckContext,
  checkers: Readonly<Record<string, Checker>> = DEFAULT_CHECKERS,
): CheckResult[] {
  return Object.entries(checkers).map(([name, checker]) => {
    try {
      const result = checker(history, context) as CheckResult | undefined;
      if (result === undefined || result === null || typeof result !== 'object') {
        return crashResult(name, new Error('it returned no result'));
      }
      return { ...result, checker: name };
    } catch (error) {
      return crashResult(name, error);
    }
  });
}

/** The validity of a scenario: false if any check failed, else unknown if any was, else true. */
export function validityOfChecks(results: readonly CheckResult[]): Validity {
  return results.reduce<Validity>((merged, result) => mergeValidity(merged, result.valid), true);
}
