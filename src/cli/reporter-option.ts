import { IdemproofError } from '../errors.js';
import { REPORTER_NAMES } from '../report/registry.js';

/** The reports `explore` and `certify` write by default: files only, no terminal summary. */
export const FILE_REPORTERS = ['html', 'junit', 'json'] as const;

/** Parses `--reporter a,b`: known names only, at least one. */
export function parseReporters(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(REPORTER_NAMES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `--reporter '${value}': expected a comma-separated list of ${REPORTER_NAMES.join(', ')}`,
    );
  }
  return names;
}

/**
 * The one rule for the reporters of every command that writes a run's reports (`run`,
 * `demo`, `report`): the names of `--reporter` when given; otherwise the command's `defaults`,
 * plus `github` when GITHUB_ACTIONS is "true" (GitHub sets it in every job), so a workflow gets
 * annotations and a step summary without asking. Returns undefined for "the defaults as they
 * are".
 *
 * Must not: add `github` to a list the user gave.
 */
export function reporterOption(
  value: string | undefined,
  defaults: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] | undefined {
  if (value !== undefined) return parseReporters(value);
  if (env.GITHUB_ACTIONS !== 'true' || defaults.includes('github')) return undefined;
  return [...defaults, 'github'];
}
