import { resultsJson } from './results-json.js';
import { writeReportFile } from './report-file.js';
import type { Reporter, ReporterFactory } from './types.js';

export const RESULTS_JSON_FILE = 'results.json';

/**
 * Writes `results.json`: the RunResult as data, for dashboards and scripts (schema documented
 * in reports/README.md). Shows nothing while the run goes on.
 *
 * Must not: add fields that are not in the RunResult type, or print to the terminal.
 */
export const jsonReporter: ReporterFactory = (context): Reporter => ({
  name: 'json',
  async onEnd(result) {
    return [await writeReportFile(context.reportDir, RESULTS_JSON_FILE, resultsJson(result))];
  },
});
