import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { isSeq, parse, parseDocument, stringify } from 'yaml';
import { exitCodeForCategory } from '../../src/cli/exit-codes.js';
import { describeError, isIdemproofError } from '../../src/errors.js';
import { PATTERN_KINDS } from '../../src/history/events.js';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';
import { planFor } from '../../src/run/run-scenario.js';
import { loadScenarioFiles } from '../../src/scenario/load.js';

/**
 * Generated and mutated scenario documents for fuzzing the loader, and the oracle every
 * outcome must satisfy: a scenario that loads and plans, or a clean scenario error (exit 2)
 * naming the file and a place in it, never a crash.
 */

/** The valid scenarios shipped with idemproof: the seeds of every mutation. */
export const VALID_SCENARIOS: readonly string[] = [
  'demo/orders.yaml',
  'demo/payments-webhook.yaml',
  'demo/payments.yaml',
  'template/my-api.yaml',
  'demo/dependency-chaos.yaml',
  'demo/flaky-downstream.yaml',
].map((name) => readFileSync(join(PACKAGE_ROOT, 'scenarios', name), 'utf8'));

/** YAML scalars and collections that are wrong, odd or hostile at almost any field. */
const ODD_VALUES = [
  '',
  '~',
  'null',
  'true',
  'no',
  '-1',
  '0',
  '1.5',
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '0x7fffffffffffffff',
  '0o777',
  '.nan',
  '.inf',
  '-.inf',
  'NaN',
  '"NaN"',
  'Infinity',
  '-0',
  "'{{key}}'",
  '[]',
  '{}',
  '[1, 2',
  '{ a: 1 }',
  '[[[[[]]]]]',
  '!!binary aGVsbG8=',
  '!!str 1',
  '!!int x',
  '!!float',
  '!!map []',
  '!!seq {}',
  '!!set { a }',
  '!!omap [a: 1]',
  '!!timestamp 2001-12-14',
  '!custom 1',
  '&anchor 1',
  '*anchor',
  '*nowhere',
  '&self [*self]',
  '&loop { a: *loop }',
  '|\n  block text',
  '>-\n  folded text',
  '"\\u0000"',
  '"\\uFFFE\\uD800"',
  "'\t'",
  '"\\e[31mred"',
  '__proto__',
  '{ __proto__: { polluted: 1 } }',
  '{ constructor: 1 }',
  'toString',
  '? [a, b]\n  : c',
  '{ [1]: 2 }',
  '@reserved',
  '`reserved',
  '%YAML 1.1',
];

/** Replacements for {{placeholders}}, {$int: …} and {$pick: …} leaves. */
const BROKEN_TEMPLATES = [
  '{{kye}}',
  '{{',
  '}}',
  '{{}}',
  '{{ constructor }}',
  '{{__proto__}}',
  '{{toString}}',
  '{{hasOwnProperty}}',
  '{{ n }}',
  '{{N}}',
  '{{key}}{{',
  '{{sink}}',
  '$int: [1]',
  '$int: [1, 2, 3]',
  '$int: ["a", 1]',
  '$int: [1e400, 0]',
  '$int: [.nan, 1]',
  '$int: []',
  '$int: null',
  '$int: [9007199254740993, 0]',
  '$int: [1.5, 2]',
  '$pick: []',
  '$pick: null',
  '$pick: { a: 1 }',
  '$pick: [{ $int: [1] }]',
  '$pick: ["{{nope}}"]',
];

const TEMPLATE_PART = /\{\{\s*\w*\s*\}\}|\$int: \[[^\]\n]*\]|\$pick: \[[^\]\n]*\]/g;
const KIND_VALUE = /kind: [^\n#]*/g;
const KEY_VALUE = /^(\s*(?:- )?[\w$-]+:)[ \t]*(.*)$/;

type Mutation = (text: string) => string;

/** Index `at` wrapped into a list of `length` items. */
function wrap(at: number, length: number): number {
  return length === 0 ? 0 : at % length;
}

function onLines(at: number, change: (lines: string[], index: number) => void): Mutation {
  return (text) => {
    const lines = text.split('\n');
    change(lines, wrap(at, lines.length));
    return lines.join('\n');
  };
}

/** Replaces the `at`-th match of `pattern` (global) with `replacement`. */
function replaceMatch(pattern: RegExp, at: number, replacement: string): Mutation {
  return (text) => {
    const matches = [...text.matchAll(pattern)];
    const match = matches[wrap(at, matches.length)];
    if (match === undefined) return text;
    return `${text.slice(0, match.index)}${replacement}${text.slice(match.index + match[0].length)}`;
  };
}

const junkText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...ODD_VALUES),
);

/** A wrong-typed, odd or random value as YAML text. */
const oddValue = fc.oneof(
  fc.constantFrom(...ODD_VALUES),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'null'),
  fc.string({ maxLength: 30 }),
);

const textMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at) => onLines(at, (lines, index) => lines.splice(index, 1))),
  fc.tuple(fc.nat(), oddValue).map(([at, value]) =>
    onLines(at, (lines, index) => {
      const match = KEY_VALUE.exec(lines[index] ?? '');
      if (match !== null) lines[index] = `${match[1]} ${value}`;
    }),
  ),
  fc
    .tuple(fc.nat(), fc.nat({ max: 8 }), junkText)
    .map(([at, indent, line]) =>
      onLines(at, (lines, index) => lines.splice(index, 0, `${' '.repeat(indent)}${line}`)),
    ),
  fc.nat().map((at) => (text: string) => text.slice(0, wrap(at, text.length + 1))),
  fc.nat().map((at) => (text: string) => {
    const index = wrap(at, Math.max(text.length - 1, 1));
    return `${text.slice(0, index)}${text.charAt(index + 1)}${text.charAt(index)}${text.slice(index + 2)}`;
  }),
  fc
    .tuple(fc.nat(), fc.oneof(fc.constantFrom(...PATTERN_KINDS), junkText))
    .map(([at, kind]) => replaceMatch(KIND_VALUE, at, `kind: ${kind}`)),
  fc
    .tuple(fc.nat(), fc.constantFrom(...BROKEN_TEMPLATES))
    .map(([at, broken]) => replaceMatch(TEMPLATE_PART, at, broken)),
  fc.constant((text: string) => `\uFEFF${text}`),
  fc.nat().map((at) => (text: string) => {
    const index = wrap(at, text.length + 1);
    return `${text.slice(0, index)}\0${text.slice(index)}`;
  }),
  fc.nat().map((at) => onLines(at, (lines, index) => (lines[index] = `\t${lines[index] ?? ''}`))),
  fc.nat().map((at) => onLines(at, (lines, index) => lines.splice(index, 0, lines[index] ?? ''))),
  fc
    .constantFrom('\n---\n', '\n...\n---\n', '\n--- !!map\n')
    .map((separator) => (text: string) => `${text}${separator}${text}`),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3000 })).map(([at, depth]) =>
    onLines(at, (lines, index) => {
      const match = KEY_VALUE.exec(lines[index] ?? '');
      if (match !== null) lines[index] = `${match[1]} ${'['.repeat(depth)}${']'.repeat(depth)}`;
    }),
  ),
  fc.tuple(fc.nat(), fc.nat()).map(([from, to]) => (text: string) => {
    const lines = text.split('\n');
    const anchored = wrap(from, lines.length);
    const aliased = wrap(to, lines.length);
    const anchor = KEY_VALUE.exec(lines[anchored] ?? '');
    const alias = KEY_VALUE.exec(lines[aliased] ?? '');
    if (anchor === null || alias === null) return text;
    lines[anchored] = `${anchor[1]} &fuzz ${anchor[2] ?? ''}`;
    lines[aliased] = `${alias[1]} *fuzz`;
    return lines.join('\n');
  }),
);

/** A shipped scenario with a "billion laughs" appended: nine levels of ten aliases each. */
export function aliasBomb(scenario: string): string {
  const levels = Array.from(
    { length: 9 },
    (_, level) => `l${level + 1}: &l${level + 1} [${Array(10).fill(`*l${level}`).join(', ')}]`,
  );
  return `${scenario}\nl0: &l0 lol\n${levels.join('\n')}\n`;
}

/** Documents that once crashed the loader (exit 4) or the planner ("Maximum call stack…"). */
export const FORMER_CRASHES: readonly string[] = [
  '*!',
  aliasBomb(VALID_SCENARIOS[0] ?? ''),
  (VALID_SCENARIOS[0] ?? '').replace('template: { status: paid }', 'template: &t [*t]'),
];

/** A shipped scenario changed by one to four text mutations. */
export const mutatedScenario: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...VALID_SCENARIOS),
    fc.array(textMutation, { minLength: 1, maxLength: 4 }),
  )
  .map(([text, mutations]) => mutations.reduce((document, mutate) => mutate(document), text));

/** Every path to a value inside plain data, parents before children. */
function pathsIn(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [index, item] as const)
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, item]) => pathsIn(item, [...prefix, key]))];
}

const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(null, Number.NaN, Infinity, -0, 2 ** 53 + 1, 1e308, -1, 0, '', ' ', 'NaN', []),
);

/** A shipped scenario with one value deleted, replaced by a wrong-typed one, or a key added. */
export const editedScenario: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...VALID_SCENARIOS),
    fc.nat(),
    fc.constantFrom('delete', 'replace', 'add'),
    wrongValue,
    fc.string({ maxLength: 12 }),
  )
  .map(([text, at, how, value, key]) => {
    const document = parseDocument(text);
    const paths = pathsIn(document.toJS()).slice(1);
    const path = paths[wrap(at, paths.length)] ?? ['name'];
    const parent = path.slice(0, -1);
    if (how === 'delete') document.deleteIn(path);
    else if (how === 'replace') document.setIn(path, value);
    else if (isSeq(document.getIn(parent, true))) document.addIn(parent, value);
    else document.setIn([...parent, key], value);
    return document.toString();
  });

const scenarioParts = parse(VALID_SCENARIOS[2] ?? '') as Record<string, unknown>;

/** A random value, or a real scenario's value, for each top-level field. */
const scenarioShaped = fc.record(
  Object.fromEntries(
    Object.entries(scenarioParts).map(([field, value]) => [
      field,
      fc.oneof(fc.constant(value), fc.anything({ maxDepth: 3 })),
    ]),
  ),
  { requiredKeys: [] },
);

const patternShaped = fc.record(
  {
    kind: fc.oneof(fc.constantFrom(...PATTERN_KINDS), fc.anything({ maxDepth: 1 })),
    count: fc.oneof(fc.integer(), fc.double(), fc.anything({ maxDepth: 1 })),
    operations: fc.array(fc.jsonValue({ maxDepth: 2 })),
    lateDuplicateOf: fc.integer(),
    tenants: fc.array(fc.string()),
    lanes: fc.array(fc.string()),
  },
  { requiredKeys: ['kind'] },
);

/** Random data rendered as YAML: anything at all, or scenario-shaped with random parts. */
export const renderedDocument: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      fc.anything(),
      fc.jsonValue(),
      scenarioShaped,
      fc
        .tuple(scenarioShaped, fc.array(patternShaped, { maxLength: 4 }))
        .map(([scenario, patterns]) => ({ ...scenario, patterns })),
    ),
    fc.record({
      indent: fc.integer({ min: 1, max: 8 }),
      collectionStyle: fc.constantFrom('any', 'block', 'flow'),
    }),
  )
  .map(([value, options]) => {
    try {
      return stringify(value, options) ?? '';
    } catch (error) {
      return `# cannot render: ${describeError(error)}\n`;
    }
  });

const yamlToken = fc.constantFrom(
  ...[':', ': ', '-', '- ', ' ', '  ', '\n', '\t', '{', '}', '[', ']', ',', '#', '"', "'"],
  ...['|', '>', '? ', '&a ', '*a', '!!binary ', '!tag ', '---', '...', '%YAML 1.2', '<<: '],
  ...['\uFEFF', '\0', '\r\n', '\u2028', '\\', 'name', 'target', 'patterns', 'kind', 'payload'],
  ...['template', '{{key}}', '{{n}}', '$int', '1e999', '.nan', 'null', '~', 'x'],
);

/** Text that looks a little like YAML, or not at all. */
export const yamlishText: fc.Arbitrary<string> = fc.oneof(
  fc.array(yamlToken, { maxLength: 80 }).map((tokens) => tokens.join('')),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

const STACK_LINE = /\n\s+at /;
/** Errors about the file as a whole, which have no place in it to name. */
const WHOLE_FILE = /scenario files are limited to/;
const JS_ERROR =
  /\b(?:TypeError|RangeError|ReferenceError|SyntaxError|Error):|Cannot read propert|is not a function|is not iterable|Maximum call stack/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The words a message may only contain when the document itself does. */
const ECHO_ONLY = ['[object Object]', 'undefined'];

/**
 * What is wrong with how loading `file` (whose text is `text`) failed: nothing when it is a
 * scenario error (exit 2) with a clean message (see messageProblems).
 */
export function errorProblems(error: unknown, file: string, text: string): string[] {
  if (!isIdemproofError(error)) {
    return [
      `threw something other than an IdemproofError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    ];
  }
  const exitCode = exitCodeForCategory(error.category);
  const problems = [
    ...(exitCode === 2 ? [] : [`${error.code} exits ${exitCode}, not 2`]),
    ...messageProblems(error.message, basename(file), text),
  ];
  return problems.length === 0
    ? []
    : [...problems, `the message: ${JSON.stringify(error.message)}`];
}

/**
 * What is wrong with an error message about the file `name`: nothing when it names the file
 * and a line:col or a path in it, without a stack trace or a JavaScript error's wording.
 */
export function messageProblems(message: string, name: string, text: string): string[] {
  const problems: string[] = [];
  if (!message.includes(name)) problems.push(`does not name the file ${name}`);
  const located = message
    .split('\n')
    .filter((line) => line.includes(name) && !WHOLE_FILE.test(line))
    .every((line) => new RegExp(`${escapeRegExp(name)}(:\\d+:\\d+| at [^ ])`).test(line));
  if (!located) problems.push('does not name a line:col or a path in the document');
  if (STACK_LINE.test(message)) problems.push('contains a stack trace line');
  if (JS_ERROR.test(message)) problems.push('contains a JavaScript error');
  for (const word of ECHO_ONLY) {
    if (message.includes(word) && !text.includes(word)) problems.push(`contains "${word}"`);
  }
  return problems;
}

/** Loads `file` as `idemproof run` does: load, then plan with a seed before any traffic. */
async function loadAndPlan(file: string): Promise<void> {
  for (const loaded of await loadScenarioFiles([file])) {
    planFor(loaded, { seed: 7, run: 'fuzz', profileOverride: undefined });
  }
}

/**
 * What is wrong with the outcome of loading and planning `file`: nothing for a scenario that
 * plans, or for a clean scenario error.
 */
export function loadProblems(file: string, text: string): Promise<string[]> {
  return loadAndPlan(file).then(
    () => [],
    (error: unknown) => errorProblems(error, file, text),
  );
}

/** Does loading or planning `file` fail (with any error)? */
export function isRefused(file: string): Promise<boolean> {
  return loadAndPlan(file).then(
    () => false,
    () => true,
  );
}
