import type { ReportContext, Reporter, ReporterFactory } from './types.js';
import { githubAnnotations } from './github-annotations.js';
import { appendSummary } from './github-summary.js';

export {
  escapeCommandData,
  escapeCommandProperty,
  githubAnnotations,
  SHOWN_VIOLATIONS,
} from './github-annotations.js';
export {
  githubSummary,
  markdownCode,
  markdownText,
  STEP_SUMMARY_LIMIT_BYTES,
} from './github-summary.js';

/**
 * The GitHub Actions reporter: one `::error` workflow command per violation (shown as
 * annotations on the run and, through `file=`, on the scenario file), a `::warning` for a run
 * that could not decide or was cut short, and, when `GITHUB_STEP_SUMMARY` names a file, a
 * Markdown summary appended to it: verdict, scenarios × checks, violations, seed, replay command
 * and the report folder. Everything is read through `verdict.ts`, as the other reports are.
 *
 * Must not: overwrite the step summary (other steps write to it too), let text from the target
 * start a workflow command, a Markdown construct or an HTML tag, or write into the report folder.
 */

export interface GithubOptions {
  /** Read for GITHUB_STEP_SUMMARY; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Makes the reporter. Annotations are printed whenever it runs (it runs when asked for with
 * `--reporter github`, or by default inside GitHub Actions); the summary is written only when
 * GITHUB_STEP_SUMMARY is set. Returns no files: the summary is not part of the report folder.
 */
export function createGithubReporter(
  context: ReportContext,
  options: GithubOptions = {},
): Reporter {
  const env = options.env ?? process.env;
  return {
    name: 'github',
    async onEnd(result) {
      for (const line of githubAnnotations(result, context.reportDir)) context.out(line);
      const path = env.GITHUB_STEP_SUMMARY;
      if (path !== undefined && path !== '') await appendSummary(path, result, context.reportDir);
      return [];
    },
  };
}

export const githubReporter: ReporterFactory = (context) => createGithubReporter(context);
