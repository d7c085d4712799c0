import type { Problem } from './cross-field.js';
import { capturedNames, type HookStep } from './schema-flow.js';
import { requestTemplates } from './request-rules.js';
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

/**
 * {{name}}, spaces allowed inside the braces (names captured by hooks may hold digits and _),
 * and {{dependency.NAME}}: a declared dependency's listen address.
 */
export const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*(?:\.[a-z][a-z0-9-]*)?)\s*\}\}/g;

/** The variables of a scenario's dependencies: `dependency.store` → its listen host:port. */
export function dependencyVariables(scenario: Pick<Scenario, 'dependencies'>): string[] {
  return Object.keys(scenario.dependencies).map((name) => `dependency.${name}`);
}

/** The variables a scenario-wide hook (setup, reset, teardown) may name: no key exists yet. */
const SCENARIO_HOOK_VARIABLES: readonly string[] = ['run', 'sink'];

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
  const { setup, perKey } = scenario.hooks;
  // Per-key templates may name what scenario setup and per-key setup capture.
  const known = [
    ...TEMPLATE_VARIABLES,
    ...dependencyVariables(scenario),
    ...capturedNames(setup),
    ...capturedNames(perKey.setup),
  ];
  const request = requestTemplates(scenario);
  for (const [path, text] of [...templatedStrings(scenario), ...request.strings]) {
    problems.push(...variableProblems(text, path, known));
  }
  const keys: [Path, string][] = [[['key', 'template'], scenario.key.template], ...request.keys];
  for (const [path, text] of keys)
    problems.push(...variableProblems(text, path, TEMPLATE_VARIABLES));
  for (const [path, body] of request.bodies) payloadProblems(body, path, problems, known);
  payloadProblems(scenario.payload.template, ['payload', 'template'], problems, known);
  scenario.patterns.forEach((pattern, index) => {
    if (pattern.kind !== 'out-of-order') return;
    pattern.operations.forEach((operation, position) =>
      payloadProblems(operation, ['patterns', index, 'operations', position], problems, known),
    );
  });
  problems.push(...hookProblems(scenario));
  return problems;
}

/**
 * The hooks' templates and captures: a step may name what earlier steps captured (scenario
 * setup first); scenario-wide steps have no key, so only {{run}} and {{sink}} of the built-in
 * variables; a capture may not reuse a built-in or an earlier capture's name.
 */
function hookProblems(scenario: Scenario): Problem[] {
  const { setup, reset, perKey, teardown } = scenario.hooks;
  const problems: Problem[] = [];
  const scenarioWide = [...dependencyVariables(scenario), ...capturedNames(setup)];
  const lists: [string[], HookStep[], string[]][] = [
    [['hooks', 'setup'], setup, [...SCENARIO_HOOK_VARIABLES]],
    [['hooks', 'reset'], reset, [...SCENARIO_HOOK_VARIABLES, ...scenarioWide]],
    [['hooks', 'perKey', 'setup'], perKey.setup, [...TEMPLATE_VARIABLES, ...scenarioWide]],
    [
      ['hooks', 'perKey', 'teardown'],
      perKey.teardown,
      [...TEMPLATE_VARIABLES, ...scenarioWide, ...capturedNames(perKey.setup)],
    ],
    [['hooks', 'teardown'], teardown, [...SCENARIO_HOOK_VARIABLES, ...scenarioWide]],
  ];
  const taken = new Set<string>(TEMPLATE_VARIABLES);
  for (const [at, steps, initial] of lists) {
    const known = [...initial];
    steps.forEach((step, index) => {
      const path = [...at, index];
      const strings: [Path, string][] = [
        [[...path, 'path'], step.path],
        ...headerStrings(step.query, [...path, 'query']),
        ...headerStrings(step.headers, [...path, 'headers']),
      ];
      for (const [where, text] of strings) problems.push(...variableProblems(text, where, known));
      if (step.body !== undefined) payloadProblems(step.body, [...path, 'body'], problems, known);
      for (const name of Object.keys(step.capture ?? {})) {
        if (taken.has(name)) {
          problems.push({
            path: [...path, 'capture', name],
            message: `{{${name}}} is ${(TEMPLATE_VARIABLES as readonly string[]).includes(name) ? 'a built-in variable' : 'captured by an earlier step'}; capture it under another name`,
          });
        }
        taken.add(name);
        known.push(name);
      }
    });
  }
  return problems;
}

/** Every string the planner or executor fills in, except payloads, with its path. */
function templatedStrings(scenario: Scenario): [Path, string][] {
  const { target, effects, keylessEffects, state } = scenario;
  const strings: [Path, string][] = [
    [['target', 'path'], target.path],
    ...headerStrings(target.headers, ['target', 'headers']),
    ...Object.entries(target.tenants).flatMap(([tenant, headers]) =>
      headerStrings(headers, ['target', 'tenants', tenant]),
    ),
    ...scenario.patterns.flatMap((pattern, index) =>
      headerStrings(pattern.headers, ['patterns', index, 'headers']),
    ),
  ];
  const counter = effects !== undefined && 'delta' in effects ? effects.delta : effects;
  const probes: [Path, typeof keylessEffects | typeof state][] = [
    [counter === effects ? ['effects'] : ['effects', 'delta'], counter],
    [['keylessEffects'], keylessEffects],
    [['state'], state],
  ];
  for (const [field, probe] of probes) {
    if (probe !== undefined && 'http' in probe) {
      strings.push([[...field, 'http', 'url'], probe.http.url]);
      strings.push(...headerStrings(probe.http.headers, [...field, 'http', 'headers']));
    }
  }
  return strings;
}

function headerStrings(headers: Record<string, string> | undefined, path: Path): [Path, string][] {
  return Object.entries(headers ?? {}).map(([name, value]) => [[...path, name], value]);
}

function variableProblems(text: string, path: Path, known: readonly string[]): Problem[] {
  return [...text.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? '')
    .filter((name) => !known.includes(name))
    .map((name) => ({
      path,
      message: `unknown template variable {{${name}}}${unknownHint(name)}; known here: ${known.join(', ')}`,
    }));
}

/** Why a name is unknown when it is known elsewhere. */
function unknownHint(name: string): string {
  if ((TEMPLATE_VARIABLES as readonly string[]).includes(name))
    return ' (a scenario-wide hook runs before any key exists)';
  if (name.startsWith('dependency.'))
    return ` (declare it: dependencies: {${name.slice('dependency.'.length)}: {listen: …, upstream: …}})`;
  return ' (no earlier hook step captures it: add capture: {' + name + ': $.…} to a setup step)';
}

/** Walks a payload template as the planner's fillPayload does, collecting problems. */
function payloadProblems(
  value: unknown,
  path: Path,
  problems: Problem[],
  known: readonly string[],
): void {
  if (typeof value === 'string') {
    problems.push(...variableProblems(value, path, known));
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => payloadProblems(item, [...path, index], problems, known));
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
        payloadProblems(options, [...path, '$pick'], problems, known);
      }
    } else {
      for (const key of keys) payloadProblems(record[key], [...path, key], problems, known);
    }
  }
}
