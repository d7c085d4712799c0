import { differentParts, retryOverrideOf } from '../scenario/schema-request.js';
import type { PatternSpec, Scenario } from '../scenario/schema.js';
import type { Random } from './random.js';
import type { RequestOverride } from './schedule.js';
import { fillPayload, type TemplateVars } from './template.js';

/**
 * The per-attempt request overrides a pattern's spec and the scenario's `different` variant
 * ask for, as plan data, and how several of them combine.
 *
 * Must not: build requests (the executor's `request-build.ts` applies overrides).
 */

type Changes = Readonly<Record<string, string | null>>;

/** Header changes merged; names compared case-insensitively, the later spelling kept. */
function mergeHeaders(base: Changes | undefined, over: Changes | undefined): Changes | undefined {
  if (base === undefined) return over;
  if (over === undefined) return base;
  const merged: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(base)) {
    if (!Object.keys(over).some((other) => other.toLowerCase() === name.toLowerCase()))
      merged[name] = value;
  }
  return { ...merged, ...over };
}

/** `over` applied on top of `base`: single values replaced, header and query changes merged. */
export function mergeOverrides(
  base: RequestOverride | undefined,
  over: RequestOverride | undefined,
): RequestOverride | undefined {
  if (base === undefined) return over;
  if (over === undefined) return base;
  const headers = mergeHeaders(base.headers, over.headers);
  const query =
    base.query === undefined && over.query === undefined
      ? undefined
      : { ...base.query, ...over.query };
  return {
    ...base,
    ...over,
    ...(headers === undefined ? {} : { headers }),
    ...(query === undefined ? {} : { query }),
  };
}

/** What the `different` variant changes besides the body (query, path, headers). */
export function differentOverride(scenario: Scenario): RequestOverride | undefined {
  const parts = differentParts(scenario.payload.different);
  if (parts === undefined) return undefined;
  const { query, path, headers } = parts;
  if (query === undefined && path === undefined && headers === undefined) return undefined;
  return {
    ...(query === undefined ? {} : { query }),
    ...(path === undefined ? {} : { path }),
    ...(headers === undefined ? {} : { headers }),
  };
}

/**
 * The spec's `first` (first attempt of an operation) or `retries` (every later one) changes,
 * with a body's {$int}/{$pick} leaves drawn now, so the plan stays deterministic.
 */
export function attemptOverride(
  spec: PatternSpec,
  first: boolean,
  vars: TemplateVars,
  random: Random,
): RequestOverride | undefined {
  const changes = first ? spec.first : retryOverrideOf(spec.retries);
  if (changes === undefined) return undefined;
  const { headers, query, body } = changes;
  return {
    ...(headers === undefined ? {} : { headers }),
    ...(query === undefined ? {} : { query }),
    ...(body === undefined ? {} : { body: { value: fillPayload(body, vars, random) } }),
  };
}
