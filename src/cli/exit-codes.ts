import type { ErrorCategory } from '../errors.js';

/** The process exit codes, documented in `--help` and the README. Only `bin.ts` uses them. */
export const EXIT_CODES = {
  /** Every check holds (or the command did what it was asked). */
  ok: 0,
  /** At least one idempotency violation was found. */
  violation: 1,
  /** Bad command line or scenario file. */
  usage: 2,
  /** Target, Toxiproxy, PostgreSQL or an effect probe unreachable or failing. */
  infrastructure: 3,
  /** idemproof itself failed: a bug to report. */
  internal: 4,
  /** Stopped at --max-requests, --max-duration or --max-report-size before the plan was done; no violation in what ran. */
  limit: 5,
  /**
   * `report` of a run that did not finish (killed, or its machine went down): the reports were
   * rebuilt from what it recorded, and nothing can tell whether what it did not reach holds.
   */
  unfinished: 6,
  /** Interrupted by Ctrl-C (128 + SIGINT); reports hold what was recorded. */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + SIGTERM); reports hold what was recorded. */
  terminated: 143,
} as const;

export function exitCodeForCategory(category: ErrorCategory): number {
  switch (category) {
    case 'usage':
    case 'scenario':
      return EXIT_CODES.usage;
    case 'infrastructure':
      return EXIT_CODES.infrastructure;
    case 'internal':
      return EXIT_CODES.internal;
  }
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  every check holds (or the command completed)
  1  at least one idempotency violation
  2  usage or scenario-file error
  3  infrastructure error: target, Toxiproxy, PostgreSQL or effect probe unreachable or failing
  4  internal error in idemproof (please report it)
  5  stopped at --max-requests, --max-duration or --max-report-size before the plan was done,
     no violation so far
  6  report: the run did not finish (killed or crashed before writing its reports); the
     reports were rebuilt from what it recorded
130  interrupted (Ctrl-C); 143 terminated (SIGTERM): reports hold what was recorded`;
