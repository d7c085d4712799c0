import type { Problem } from './cross-field.js';
import type { Scenario } from './schema.js';

/** The variables a template may name as {{name}}; the planner and executor fill them in. */
export const TEMPLATE_VARIABLES = [
  'key',
  'tenant',
  'marker',
  'resource',
  'run',
  'n',
  'sink',
] as const;

export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** {{name}}, spaces allowed inside the braces. */
export const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

export const INT_RANGE_RULE = '$int needs [min, max] with whole numbers';
export const PICK_RULE = '$pick needs a non-empty list';

/** Is `range` the [min, max] of an {$int: …} leaf? */
export function isIntRange(range: unknown): range is [number, number] {
  return (
    Array.isArray(range) &&
    range.length === 2 &&
    range.every((bound) => Number.isSafeInteger(bound))
  );
}

type Path = (string | number)[];

/**
 * The template mistakes of a scenario, found when it is loaded rather than once requests are
 * under way: an unknown {{variable}} in any templated string, and {$int: …} or {$pick: …}
 * payload leaves that cannot be drawn from. It must not fill anything in.
 */
export function templateProblems(scenario: Scenario): Problem[] {
  const problems: Problem[] = [];
  for (const [path, text] of templatedStrings(scenario)) {
    problems.push(...variableProblems(text, path));
  }
  payloadProblems(scenario.payload.template, ['payload', 'template'], problems);
  scenario.patterns.forEach((pattern, index) => {
    if (pattern.kind !== 'out-of-order') return;
    pattern.operations.forEach((operation, position) =>
      payloadProblems(operation, ['patterns', index, 'operations', position], problems),
    );
  });
  return problems;
}

/** Every string the planner or executor fills in, except payloads, with its path. */
function templatedStrings(scenario: Scenario): [Path, string][] {
  const { target, effects, keylessEffects, state } = scenario;
  const strings: [Path, string][] = [
    [['key', 'template'], scenario.key.template],
    [['target', 'path'], target.path],
    ...headerStrings(target.headers, ['target', 'headers']),
    ...Object.entries(target.tenants).flatMap(([tenant, headers]) =>
      headerStrings(headers, ['target', 'tenants', tenant]),
    ),
    ...scenario.patterns.flatMap((pattern, index) =>
      headerStrings(pattern.headers, ['patterns', index, 'headers']),
    ),
  ];
  for (const [field, probe] of [
    ['effects', effects],
    ['keylessEffects', keylessEffects],
    ['state', state],
  ] as const) {
    if (probe !== undefined && 'http' in probe) {
      strings.push([[field, 'http', 'url'], probe.http.url]);
      strings.push(...headerStrings(probe.http.headers, [field, 'http', 'headers']));
    }
  }
  return strings;
}

function headerStrings(headers: Record<string, string> | undefined, path: Path): [Path, string][] {
  return Object.entries(headers ?? {}).map(([name, value]) => [[...path, name], value]);
}

function variableProblems(text: string, path: Path): Problem[] {
  return [...text.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? '')
    .filter((name) => !(TEMPLATE_VARIABLES as readonly string[]).includes(name))
    .map((name) => ({
      path,
      message: `unknown template variable {{${name}}}; known: ${TEMPLATE_VARIABLES.join(', ')}`,
    }));
}

/** Walks a payload template as the planner's fillPayload does, collecting problems. */
function payloadProblems(value: unknown, path: Path, problems: Problem[]): void {
  if (typeof value === 'string') {
    problems.push(...variableProblems(value, path));
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => payloadProblems(item, [...path, index], problems));
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === '$int') {
      if (!isIntRange(record.$int))
        problems.push({ path: [...path, '$int'], message: INT_RANGE_RULE });
    } else if (keys.length === 1 && keys[0] === '$pick') {
      const options = record.$pick;
      if (!Array.isArray(options) || options.length === 0) {
        problems.push({ path: [...path, '$pick'], message: PICK_RULE });
      } else {
        payloadProblems(options, [...path, '$pick'], problems);
      }
    } else {
      for (const key of keys) payloadProblems(record[key], [...path, key], problems);
    }
  }
}
