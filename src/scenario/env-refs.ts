import { IdemproofError } from '../errors.js';
import { printable } from './printable.js';
import type { Scenario } from './schema.js';

/**
 * The `${NAME}` environment variables a scenario's requests and probes expand (headers,
 * query values, URLs, SQL connection strings; never bodies, which are sent as written), with
 * where each is used, so `validate` can warn about unset ones and `run` can refuse before
 * any traffic instead of failing on the first request that needs one.
 *
 * Must not: read values into anything but a yes/no (a value is a secret).
 */
export interface EnvReference {
  readonly name: string;
  readonly path: readonly (string | number)[];
  /** "file:line:col at target.headers.Authorization" (line and column for YAML files). */
  readonly where: string;
}

const ENV = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Subtrees sent as written: `${…}` there is text, not a variable. */
const LITERAL_FIELDS = new Set(['payload', 'body', 'operations', 'description', 'name']);

/** Every `${NAME}` in the scenario, in document order; `where` places each path. */
export function envReferences(
  scenario: Scenario,
  where: (path: readonly (string | number)[]) => string,
): EnvReference[] {
  const found: EnvReference[] = [];
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(ENV))
        found.push({ name: match[1] ?? '', path, where: where(path) });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, [...path, index]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (!LITERAL_FIELDS.has(key)) walk(item, [...path, key]);
      }
    }
  };
  walk(scenario, []);
  return found;
}

/** The references the loader found, with positions, for each scenario it validated. */
const placed = new WeakMap<Scenario, readonly EnvReference[]>();

export function rememberEnvReferences(
  scenario: Scenario,
  where: (path: readonly (string | number)[]) => string,
): void {
  placed.set(scenario, envReferences(scenario, where));
}

/** The scenario's references: placed by the loader, else with paths only. */
export function envReferencesOf(scenario: Scenario): readonly EnvReference[] {
  return placed.get(scenario) ?? envReferences(scenario, (path) => path.join('.'));
}

/** "environment variable NAME is not set (used at …)", for each unset one. */
export function unsetEnvWarnings(
  scenario: Scenario,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  return envReferencesOf(scenario)
    .filter((reference) => env[reference.name] === undefined)
    .map(
      (reference) =>
        `environment variable ${reference.name} is not set (used at ${printable(reference.where)})`,
    );
}

/** Refuses (exit 2) when a variable some request or probe needs is not set: before any traffic. */
export function assertEnvSet(
  loaded: readonly { readonly scenario: Scenario }[],
  env: NodeJS.ProcessEnv = process.env,
): void {
  const warnings = loaded.flatMap((entry) => unsetEnvWarnings(entry.scenario, env));
  if (warnings.length === 0) return;
  throw new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `the scenarios need environment variables that are not set:\n  ${warnings.join('\n  ')}`,
  );
}
