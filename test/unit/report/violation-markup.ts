import type { CheckResult } from '../../../src/check/types.js';
import type { HistoryEvent } from '../../../src/history/events.js';
import { indexHistory } from '../../../src/report/history-index.js';
import { lanePalette } from '../../../src/report/html-lanes.js';
import { renderViolation } from '../../../src/report/html-violation.js';
import type { ScenarioResult } from '../../../src/run/result.js';

/** The HTML of a check's first anomaly, as the report renders it for scenario `payments`. */
export function firstViolationMarkup(
  history: readonly HistoryEvent[],
  result: CheckResult,
): string {
  const anomaly = result.anomalies[0];
  if (anomaly === undefined) throw new Error(`expected an anomaly of ${result.checker}`);
  return renderViolation(
    {
      id: 'v1',
      scenario: { name: 'payments' } as ScenarioResult,
      checker: result.checker,
      anomaly,
      status: 'fail',
      detailed: true,
    },
    indexHistory(history),
    lanePalette(['clean']),
  ).markup;
}
