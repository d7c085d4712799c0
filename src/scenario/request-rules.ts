import type { Problem } from './cross-field.js';
import {
  differentParts,
  keyTemplateVaries,
  retryOverrideOf,
  type BODY_ENCODINGS,
} from './schema-request.js';
import type { PatternSpec, Scenario } from './schema.js';

/**
 * The request-shape rules the schema alone cannot state: key templates that cannot give a
 * pattern the distinct keys it needs, bodies that do not fit their encoding, and a mismatch
 * test whose different request would equal the original.
 *
 * Must not: fill templates or read files.
 */

type Encoding = (typeof BODY_ENCODINGS)[number];
type Path = (string | number)[];

/** How many operations (keys) a pattern uses; patterns not listed use one. */
function operationsOf(pattern: PatternSpec): number {
  switch (pattern.kind) {
    case 'concurrent-burst':
      return pattern.rounds;
    case 'distinct-keys':
      return pattern.count;
    case 'out-of-order':
      return pattern.operations.length;
    case 'cross-tenant':
      // The tenants share one key; a control key is the second.
      return 2;
    default:
      return 1;
  }
}

function patternName(pattern: PatternSpec, index: number): string {
  return pattern.name !== undefined ? `'${pattern.name}'` : `${pattern.kind} (#${index + 1})`;
}

function keyProblems(scenario: Scenario): Problem[] {
  const problems: Problem[] = [];
  const sharing: string[] = [];
  scenario.patterns.forEach((pattern, index) => {
    const own = pattern.key !== undefined;
    const template = pattern.key ?? scenario.key.template;
    if (keyTemplateVaries(template)) return;
    if (!own) sharing.push(patternName(pattern, index));
    const needed = operationsOf(pattern);
    if (needed > 1) {
      problems.push({
        path: own ? ['patterns', index, 'key'] : ['key', 'template'],
        message: `pattern ${patternName(pattern, index)} needs ${needed} distinct keys, but the key template ${JSON.stringify(template)} gives them all one key: add {{n}} or {{marker}}`,
      });
    }
  });
  if (sharing.length > 1) {
    problems.push({
      path: ['key', 'template'],
      message: `the key template ${JSON.stringify(scenario.key.template)} gives patterns ${sharing.join(', ')} one shared key: add {{n}} or {{marker}}, or give those patterns a key of their own`,
    });
  }
  return problems;
}

function isFileOrBase64(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    ('$base64' in value || '$file' in value)
  );
}

function isRecord(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Why `value` cannot be a body in `encoding`, or undefined. */
export function bodyShapeProblem(value: unknown, encoding: Encoding): string | undefined {
  if (value === undefined) return undefined;
  const scalar = ['string', 'number', 'boolean'].includes(typeof value);
  switch (encoding) {
    case 'none':
      return 'encoding none sends no body: remove it, or choose an encoding';
    case 'text':
      return scalar ? undefined : 'a text body must be a string';
    case 'binary':
      return typeof value === 'string' || isFileOrBase64(value)
        ? undefined
        : 'a binary body must be {$base64: …}, {$file: ./file} or a string';
    case 'form':
      return typeof value === 'string' || (isRecord(value) && !isFileOrBase64(value))
        ? undefined
        : 'a form body must be an object of fields (nested objects and lists allowed)';
    case 'multipart':
      return isRecord(value) && !isFileOrBase64(value)
        ? undefined
        : 'a multipart body must be an object of fields; a file is a field {$file: ./x, filename?, contentType?}';
    case 'json':
      return undefined;
  }
}

function bodyProblems(scenario: Scenario): Problem[] {
  const { encoding, template, different } = scenario.payload;
  const problems: Problem[] = [];
  const check = (value: unknown, path: Path): void => {
    const problem = bodyShapeProblem(value, encoding);
    if (problem !== undefined) problems.push({ path, message: problem });
  };
  check(template, ['payload', 'template']);
  const parts = differentParts(different);
  if (parts?.body !== undefined) check(parts.body, ['payload', 'different', 'body']);
  if (parts?.fields !== undefined && !['json', 'form', 'multipart'].includes(encoding)) {
    problems.push({
      path: ['payload', 'different'],
      message: `fields can be merged into json, form and multipart bodies, not ${encoding}: use different.body (or query, path, headers)`,
    });
  }
  scenario.patterns.forEach((pattern, index) => {
    check(pattern.first?.body, ['patterns', index, 'first', 'body']);
    check(retryOverrideOf(pattern.retries)?.body, ['patterns', index, 'retries', 'body']);
    const changesRequest =
      parts !== undefined &&
      (parts.query !== undefined || parts.path !== undefined || parts.headers !== undefined);
    if (pattern.kind === 'payload-mismatch' && encoding === 'none' && !changesRequest) {
      problems.push({
        path: ['patterns', index, 'kind'],
        message: `pattern ${patternName(pattern, index)} needs a different request, but encoding none has no body to change: set payload.different.query, path or headers`,
      });
    }
  });
  return problems;
}

export function requestProblems(scenario: Scenario): Problem[] {
  return [...keyProblems(scenario), ...bodyProblems(scenario)];
}

function changeStrings(
  changes: Readonly<Record<string, string | null>> | undefined,
  path: Path,
): [Path, string][] {
  return Object.entries(changes ?? {}).flatMap(([name, value]): [Path, string][] =>
    value === null ? [] : [[[...path, name], value]],
  );
}

/**
 * The templated strings and bodies of the request-shape fields, with their paths, for the
 * template checks: `strings` (query, override headers and query, the different path),
 * `keys` (pattern key templates) and `bodies` (override and different bodies).
 */
export function requestTemplates(scenario: Scenario): {
  readonly strings: [Path, string][];
  readonly keys: [Path, string][];
  readonly bodies: [Path, unknown][];
} {
  const strings = changeStrings(scenario.target.query, ['target', 'query']);
  const keys: [Path, string][] = [];
  const bodies: [Path, unknown][] = [];
  const parts = differentParts(scenario.payload.different);
  const at: Path = ['payload', 'different'];
  if (parts !== undefined) {
    strings.push(...changeStrings(parts.query, [...at, 'query']));
    strings.push(...changeStrings(parts.headers, [...at, 'headers']));
    if (parts.path !== undefined) strings.push([[...at, 'path'], parts.path]);
    if (parts.body !== undefined) bodies.push([[...at, 'body'], parts.body]);
    if (parts.fields !== undefined) bodies.push([at, parts.fields]);
  }
  scenario.patterns.forEach((pattern, index) => {
    if (pattern.key !== undefined) keys.push([['patterns', index, 'key'], pattern.key]);
    for (const [field, changes] of [
      ['first', pattern.first],
      ['retries', retryOverrideOf(pattern.retries)],
    ] as const) {
      const path: Path = ['patterns', index, field];
      strings.push(...changeStrings(changes?.headers, [...path, 'headers']));
      strings.push(...changeStrings(changes?.query, [...path, 'query']));
      if (changes?.body !== undefined) bodies.push([[...path, 'body'], changes.body]);
    }
  });
  return { strings, keys, bodies };
}
