import { IdemproofError } from '../errors.js';
import { githubReporter } from './github.js';
import { htmlReporter } from './html.js';
import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import { terminalReporter } from './terminal.js';
import type { ReportContext, Reporter, ReporterFactory } from './types.js';

export { multiplexReporters, type ReporterErrorHandler } from './multiplex.js';

/** The reporters, by the names scenario files and `--reporter` use. */
export const REPORTER_NAMES = ['terminal', 'html', 'junit', 'json', 'github'] as const;
export type ReporterName = (typeof REPORTER_NAMES)[number];

export const REPORTER_FACTORIES: Readonly<Record<ReporterName, ReporterFactory>> = {
  terminal: terminalReporter,
  html: htmlReporter,
  junit: junitReporter,
  json: jsonReporter,
  github: githubReporter,
};

export function isReporterName(name: string): name is ReporterName {
  return (REPORTER_NAMES as readonly string[]).includes(name);
}

/**
 * Makes the named reporters, in the order given (a name given twice makes one reporter).
 * Throws IDEMPROOF_ERR_USAGE naming the known reporters for an unknown name.
 */
export function createReporters(names: readonly string[], context: ReportContext): Reporter[] {
  const unique: ReporterName[] = [];
  for (const name of names) {
    if (!isReporterName(name)) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        `createReporters(): unknown reporter '${name}'; expected one of: ${REPORTER_NAMES.join(', ')}`,
      );
    }
    if (!unique.includes(name)) unique.push(name);
  }
  return unique.map((name) => REPORTER_FACTORIES[name](context));
}
