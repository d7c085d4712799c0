import { expect } from 'vitest';
import type { Anomaly, CheckResult } from '../../../src/check/types.js';

/** Asserts that the result failed with exactly one anomaly, of `kind`, and returns it. */
export function onlyAnomaly(result: CheckResult, kind: string): Anomaly {
  expect(result.valid).toBe(false);
  expect(result.anomalies.map((anomaly) => anomaly.kind)).toEqual([kind]);
  const [anomaly] = result.anomalies;
  if (anomaly === undefined) throw new Error('no anomaly');
  return anomaly;
}
