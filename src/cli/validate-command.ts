import { IdemproofError, isIdemproofError } from '../errors.js';
import { attemptCount } from '../plan/schedule.js';
import { assertScenarioHosts, planFor } from '../run/run-scenario.js';
import { extname } from 'node:path';
import { isConsumerDocument, loadConsumerScenarioFile } from '../consumer/load.js';
import { consumerPublishCount, planConsumerScenario } from '../consumer/plan.js';
import { YAML_EXTENSIONS, displayPath, readScenarioText } from '../scenario/files.js';
import { unsetEnvWarnings } from '../scenario/env-refs.js';
import {
  findScenarioFiles,
  loadScenarioFile,
  parseYamlText,
  plainData,
  printable,
} from '../scenario/load.js';
import type { Profile } from '../scenario/profile.js';
import { isProfilePath, loadProfileOption } from '../scenario/profile-file.js';
import { EXIT_CODES } from './exit-codes.js';
import type { Output } from './output.js';

export interface ValidateCommandOptions {
  readonly allowHost?: string[];
  readonly json?: boolean;
  /** `--profile`: a built-in name or a profile file; checked, and the scenarios planned with it. */
  readonly profile?: string;
}

/** What planning one scenario of a valid file gives. */
export interface ValidatedScenario {
  readonly name: string;
  readonly patterns: number;
  readonly attempts: number;
  /** What the planner left out and why (e.g. a delay beyond the declared retention). */
  readonly notes: readonly string[];
  /** What would stop `run` although the file is valid: unset ${ENV} variables, with where. */
  readonly warnings?: readonly string[];
}

/**
 * The verdict on one scenario file (or on a path that named no scenario file), or a module in
 * a scanned folder that the naming rule left out: `skipped` says why; it was not run, and it
 * counts as neither valid nor invalid.
 */
export interface FileValidation {
  /** Path relative to the working directory, as is (JSON escapes it; text output escapes it). */
  readonly file: string;
  readonly valid: boolean;
  /** Why the file is not valid: the loader's or planner's message (file:line:col …). */
  readonly error?: string;
  /** Why the file was not loaded: it is not named as a scenario (e.g. helpers.ts). */
  readonly skipped?: string;
  /** The `--profile` entry only: the profile as resolved (name, statuses, source, SHA-256). */
  readonly profile?: Profile;
  readonly scenarios: readonly ValidatedScenario[];
}

/**
 * Validation plans with a fixed seed and run id: the counts do not depend on them, and the
 * same files always print the same thing.
 */
const VALIDATE_PLAN = { seed: 0, run: '00000000' } as const;

/**
 * Checks scenario files as `idemproof run` would before any traffic: loads each file (schema
 * and cross-field rules), plans every scenario, checks hosts against the allowlist and
 * scenario names across files. Sends nothing and starts nothing. Every file gets a verdict;
 * a bad file does not hide the next one. A bug (an error that is not an IdemproofError)
 * still propagates. With `profile` (`--profile`), every scenario is planned with it, as
 * `run --profile` would.
 */
export async function validateFiles(
  paths: readonly string[],
  allowHosts: readonly string[] = [],
  profile?: Profile,
): Promise<FileValidation[]> {
  const results: FileValidation[] = [];
  const names = new Map<string, string>();
  for (const path of paths) {
    const found = await refusal(path, () => findScenarioFiles([path]));
    if ('valid' in found) {
      results.push(found);
      continue;
    }
    for (const file of found.files) {
      results.push(await validateFile(file, allowHosts, names, profile));
    }
    for (const { file, reason } of found.skipped) {
      results.push({ file, valid: true, skipped: reason, scenarios: [] });
    }
  }
  return results;
}

async function validateFile(
  path: string,
  allowHosts: readonly string[],
  names: Map<string, string>,
  profile: Profile | undefined,
): Promise<FileValidation> {
  const checked = await refusal(path, async () => {
    const consumer = await consumerValidation(path);
    if (consumer !== undefined) {
      const other = names.get(consumer.name);
      if (other !== undefined) {
        throw new IdemproofError(
          'IDEMPROOF_ERR_SCENARIO',
          `${displayPath(path)}: scenario name '${printable(consumer.name)}' is also used by ${printable(other)}; names must be unique in a run`,
        );
      }
      return [consumer];
    }
    const loaded = await loadScenarioFile(path);
    const own = new Map<string, string>();
    return loaded.map((entry) => {
      const plans = planFor(entry, { ...VALIDATE_PLAN, profileOverride: profile });
      assertScenarioHosts(entry, undefined, allowHosts);
      const { name } = entry.scenario;
      const other = names.get(name) ?? own.get(name);
      if (other !== undefined) {
        throw new IdemproofError(
          'IDEMPROOF_ERR_SCENARIO',
          `${printable(entry.file)}: scenario name '${printable(name)}' is also used by ${printable(other)}; names must be unique in a run`,
        );
      }
      own.set(name, entry.file);
      const warnings = unsetEnvWarnings(entry.scenario);
      return {
        name,
        patterns: plans.length,
        attempts: attemptCount(plans),
        notes: plans.flatMap((plan) => plan.notes.map((note) => `${plan.id}: ${note}`)),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
    });
  });
  if (!Array.isArray(checked)) return checked;
  const file = displayPath(path);
  for (const scenario of checked) names.set(scenario.name, file);
  return { file, valid: true, scenarios: checked };
}

/** `task`'s value, or the invalid verdict on `path` when it throws an IdemproofError. */
async function refusal<T>(path: string, task: () => Promise<T>): Promise<T | FileValidation> {
  try {
    return await task();
  } catch (error) {
    if (!isIdemproofError(error)) throw error;
    return { file: displayPath(path), valid: false, error: error.message, scenarios: [] };
  }
}

/**
 * The verdict on `--profile`'s value: a profile file (schema, file:line:col errors) or a
 * built-in name, with the profile as resolved. `file` is the file's path, or the name.
 */
export async function validateProfile(value: string): Promise<FileValidation> {
  const file = isProfilePath(value) ? displayPath(value) : value;
  try {
    // Name, source and SHA-256 first: what a reader of --json looks for.
    const { name, source, sha256, ...fields } = await loadProfileOption(value);
    const profile: Profile = { name, source, sha256, ...fields };
    return { file, valid: true, profile, scenarios: [] };
  } catch (error) {
    if (!isIdemproofError(error)) throw error;
    return { file, valid: false, error: error.message, scenarios: [] };
  }
}

/** "profile 'acme': mismatch 422, in flight 409, missing key refused with 400, sha256 1a2b…". */
function profileLine(profile: Profile): string {
  const missing =
    profile.missingKey.expect === 'refused'
      ? `refused with ${profile.missingKey.status.join('|')}`
      : 'processed';
  const replay =
    profile.replayHeader === null
      ? 'none'
      : `${profile.replayHeader.name}: ${profile.replayHeader.value}`;
  return (
    `profile '${printable(profile.name)}' (${printable(profile.source ?? 'built-in')}): ` +
    `mismatch ${profile.mismatchStatus.join('|')}, in flight ${profile.inFlightStatus.join('|')}, ` +
    `missing key ${missing}, replay header ${printable(replay)}, ` +
    `sha256 ${profile.sha256 ?? 'unknown'}`
  );
}

/**
 * "✓ file (N patterns, M attempts planned)", "✗ file" and the error, or "- file (skipped: …)",
 * then a total. A profile's entry is "✓ file" and what it resolved (profileLine). File names are escaped: a name with a newline or an escape sequence prints as
 * one harmless line.
 */
export function formatValidation(results: readonly FileValidation[]): string {
  const lines = results.flatMap((result) => {
    const file = printable(result.file);
    if (result.skipped !== undefined) return [`- ${file} (skipped: ${printable(result.skipped)})`];
    if (!result.valid) {
      const error = (result.error ?? 'invalid').split('\n').map((line) => `    ${line}`);
      return [`✗ ${file}`, ...error];
    }
    if (result.profile !== undefined) return [`✓ ${file}`, `    ${profileLine(result.profile)}`];
    const patterns = result.scenarios.reduce((sum, scenario) => sum + scenario.patterns, 0);
    const attempts = result.scenarios.reduce((sum, scenario) => sum + scenario.attempts, 0);
    const count = result.scenarios.length === 1 ? '' : `${result.scenarios.length} scenarios, `;
    const notes = result.scenarios.flatMap((scenario) => [
      ...scenario.notes.map((note) => `    note: ${note}`),
      ...(scenario.warnings ?? []).map((warning) => `    warning: ${warning}`),
    ]);
    return [
      `✓ ${file} (${count}${plural(patterns, 'pattern')}, ${plural(attempts, 'attempt')} planned)`,
      ...notes,
    ];
  });
  const checked = results.filter((result) => result.skipped === undefined).length;
  const skipped = results.length - checked;
  const invalid = results.filter((result) => !result.valid).length;
  lines.push(
    (invalid === 0
      ? `${plural(checked, 'file')} valid`
      : `${invalid} of ${plural(checked, 'file')} invalid`) +
      (skipped === 0 ? '' : `, ${skipped} skipped (not named *.scenario.<ext>, not run)`),
  );
  return lines.join('\n');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * `idemproof validate [files or folders…] [--profile name|file]`: 0 when every file (and the
 * profile) is valid, else 2. The profile's verdict comes first; the scenarios are planned with
 * it, and not checked when it is invalid (nothing could run with it).
 */
export async function validateCommand(
  paths: readonly string[],
  options: ValidateCommandOptions,
  output: Output,
): Promise<number> {
  if (paths.length === 0 && options.profile === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      'validate: name scenario files or folders, or a profile with --profile <name|file>',
    );
  }
  const profile =
    options.profile === undefined ? undefined : await validateProfile(options.profile);
  const results = [
    ...(profile === undefined ? [] : [profile]),
    ...(profile?.valid === false
      ? []
      : await validateFiles(paths, options.allowHost ?? [], profile?.profile)),
  ];
  output.result(
    options.json === true ? JSON.stringify(results, null, 2) : formatValidation(results),
  );
  return results.every((result) => result.valid) ? EXIT_CODES.ok : EXIT_CODES.usage;
}

/** A consumer scenario's verdict (its messages count as attempts), or undefined for an API scenario. */
async function consumerValidation(path: string): Promise<ValidatedScenario | undefined> {
  if (!YAML_EXTENSIONS.has(extname(path))) return undefined;
  const file = displayPath(path);
  const value = plainData(parseYamlText(await readScenarioText(path), file), file);
  if (!isConsumerDocument(value)) return undefined;
  const loaded = await loadConsumerScenarioFile(path);
  const plans = planConsumerScenario(loaded.scenario, {
    seed: VALIDATE_PLAN.seed,
    run: 'validate',
  });
  return {
    name: loaded.scenario.name,
    patterns: plans.length,
    attempts: consumerPublishCount(plans),
    notes: [],
  };
}
