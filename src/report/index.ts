/**
 * The report stage: reporters turn a finished run (and its history) into the terminal summary,
 * index.html, junit.xml and results.json. Pick them by name through the registry.
 */
export type { ReportContext, Reporter, ReporterFactory, RunProgress } from './types.js';
export {
  REPORTER_NAMES,
  REPORTER_FACTORIES,
  createReporters,
  isReporterName,
  multiplexReporters,
  type ReporterErrorHandler,
  type ReporterName,
} from './registry.js';
export { terminalReporter, createTerminalReporter, type TerminalOptions } from './terminal.js';
export { htmlReporter, HTML_FILE } from './html.js';
export { junitReporter, junitXml, JUNIT_FILE } from './junit.js';
export { jsonReporter, RESULTS_JSON_FILE } from './json.js';
export { resultsJson } from './results-json.js';
export { renderReportPage } from './html-page.js';
export { summaryLines } from './terminal-summary.js';
export { checkStatus, verdictOf, type CheckStatus, type Verdict } from './verdict.js';
