import { renderReportPage } from './html-page.js';
import { writeReportFile } from './report-file.js';
import type { Reporter, ReporterFactory } from './types.js';

export const HTML_FILE = 'index.html';

/**
 * Writes `index.html`: one self-contained page that works offline, without JavaScript (see
 * html-page.ts). Shows nothing while the run goes on.
 *
 * Must not: load anything from outside the file, emit a script or an event-handler attribute,
 * or link to a URL taken from the run.
 */
export const htmlReporter: ReporterFactory = (context): Reporter => ({
  name: 'html',
  async onEnd(result, history) {
    const page = renderReportPage(result, history, context.reportDir);
    return [await writeReportFile(context.reportDir, HTML_FILE, page)];
  },
});
