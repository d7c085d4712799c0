import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  LineCounter,
  isAlias,
  isMap,
  isNode,
  isScalar,
  parseDocument,
  visit,
  type Alias,
  type Document,
  type Node,
  type YAMLMap,
} from 'yaml';
import type { z } from 'zod';
import { IdemproofError, describeError } from '../errors.js';
import { crossFieldProblems } from './cross-field.js';
import { scenarioSchema, type Scenario, type ScenarioInput } from './schema.js';

/** A validated scenario and the file it came from. */
export interface LoadedScenario {
  readonly scenario: Scenario;
  /** Path relative to the working directory, for reports. */
  readonly file: string;
}

const YAML_EXTENSIONS = new Set(['.yaml', '.yml']);
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);
/**
 * Larger YAML files are refused before they are read: a scenario is a page or two (the
 * commented template is 5 kB), and parsing takes about a second per megabyte.
 */
const MAX_YAML_BYTES = 1_000_000;
/** More aliases than any scenario needs; each costs the YAML library a scan of the anchors. */
const MAX_ALIASES = 100;
/** How many copies aliases may expand to in all (the YAML library's guard against bombs). */
const MAX_ALIAS_COPIES = 100;

/** Expands files and folders (recursively, sorted) into scenario files. */
export async function collectScenarioFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) {
      throw new IdemproofError('IDEMPROOF_ERR_USAGE', `no such scenario file or folder: ${path}`);
    }
    if (info.isDirectory()) {
      const found = (await readdir(path, { recursive: true }))
        .filter((name) => isScenarioFileName(name))
        .sort()
        .map((name) => join(path, name));
      if (found.length === 0) {
        throw new IdemproofError(
          'IDEMPROOF_ERR_USAGE',
          `no scenario files (.yaml, .yml, .ts, .js) in folder ${path}`,
        );
      }
      files.push(...found);
    } else {
      files.push(path);
    }
  }
  return files;
}

function isScenarioFileName(name: string): boolean {
  if (name.endsWith('.d.ts')) return false;
  const extension = extname(name);
  return YAML_EXTENSIONS.has(extension) || MODULE_EXTENSIONS.has(extension);
}

export async function loadScenarioFiles(paths: readonly string[]): Promise<LoadedScenario[]> {
  return uniquelyNamed(await loadEachFile(paths));
}

async function loadEachFile(paths: readonly string[]): Promise<LoadedScenario[]> {
  const loaded: LoadedScenario[] = [];
  for (const file of await collectScenarioFiles(paths))
    loaded.push(...(await loadScenarioFile(file)));
  return loaded;
}

/** A scenario file or folder, or a scenario object (`defineScenario({...})`). */
export type ScenarioSource = string | ScenarioInput;

/**
 * Files, folders and scenario objects, in the order given. An object is validated by the same
 * schema and cross-field rules as a file; its errors name the scenario instead of a file.
 */
export async function loadScenarioSources(
  sources: readonly ScenarioSource[],
): Promise<LoadedScenario[]> {
  const loaded: LoadedScenario[] = [];
  for (const [index, source] of sources.entries()) {
    if (typeof source === 'string') {
      loaded.push(...(await loadEachFile([source])));
    } else {
      const label = scenarioLabel(source, index);
      loaded.push({ scenario: validate(source, label, undefined), file: label });
    }
  }
  return uniquelyNamed(loaded);
}

/** "scenario 'payments'", or "scenario object 2" when the object has no name. */
function scenarioLabel(value: unknown, index: number): string {
  const name: unknown =
    value !== null && typeof value === 'object' && 'name' in value ? value.name : undefined;
  return typeof name === 'string' && name !== ''
    ? `scenario '${printable(name)}'`
    : `scenario object ${index + 1}`;
}

/** The scenarios, if no two share a name. */
function uniquelyNamed(loaded: LoadedScenario[]): LoadedScenario[] {
  const names = new Map<string, string>();
  for (const { scenario, file } of loaded) {
    const other = names.get(scenario.name);
    if (other !== undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_SCENARIO',
        `${file}: scenario name '${printable(scenario.name)}' is also used by ${other}; names must be unique in a run`,
      );
    }
    names.set(scenario.name, file);
  }
  return loaded;
}

/** Loads one file: a YAML document, or a module whose default export is one scenario or a list. */
export async function loadScenarioFile(path: string): Promise<LoadedScenario[]> {
  const file = relative(process.cwd(), resolve(path)) || path;
  const extension = extname(path);
  if (YAML_EXTENSIONS.has(extension)) return [{ scenario: await loadYaml(path, file), file }];
  if (MODULE_EXTENSIONS.has(extension)) {
    const values = await importModule(path, file);
    return values.map((value, index) => ({
      scenario: validate(
        value,
        values.length > 1 ? `${file} (scenario ${index + 1})` : file,
        undefined,
      ),
      file,
    }));
  }
  throw new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `${file}: not a scenario file (expected .yaml, .yml, .ts, .mts, .js or .mjs)`,
  );
}

async function loadYaml(path: string, file: string): Promise<Scenario> {
  const text = await readYaml(path, file);
  const lineCounter = new LineCounter();
  // Repeated keys are found by structureProblem (the parser's own check compares every pair
  // of keys); the parser's warnings are not printed, the schema reports what matters.
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: true,
    uniqueKeys: false,
    logLevel: 'error',
  });
  const syntax = document.errors[0];
  if (syntax !== undefined) {
    const position = syntax.linePos?.[0];
    const where = position === undefined ? file : `${file}:${position.line}:${position.col}`;
    const message =
      syntax.code === 'RESOURCE_EXHAUSTION'
        ? 'nested too deeply'
        : (syntax.message.split('\n')[0] ?? syntax.code).replace(/ at line \d+, column \d+:?$/, '');
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${where}: invalid YAML: ${printable(message)}`,
    );
  }
  const yaml = { document, lineCounter };
  return validate(plainData(yaml, file), file, yaml);
}

/** The text of a YAML file; refuses one larger than MAX_YAML_BYTES without reading it. */
async function readYaml(path: string, file: string): Promise<string> {
  const cannotRead = (error: unknown): never => {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${file}: cannot read: ${describeError(error)}`,
    );
  };
  const { size } = await stat(path).catch(cannotRead);
  if (size > MAX_YAML_BYTES) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${file}: the file is ${(size / 1e6).toFixed(1)} MB; scenario files are limited to ${MAX_YAML_BYTES / 1e6} MB`,
    );
  }
  return readFile(path, 'utf8').catch(cannotRead);
}

/**
 * The document as plain data. Refuses what would make that data wrong or huge: a repeated
 * key, an alias without an anchor before it, an alias inside the value it names, and aliases
 * that expand past MAX_ALIAS_COPIES copies (a "billion laughs" bomb).
 */
function plainData(yaml: YamlSource, file: string): unknown {
  const problem = structureProblem(yaml.document);
  if (problem !== undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${file}${nodePosition(yaml, problem.node)}: invalid YAML: ${printable(problem.message)}`,
    );
  }
  try {
    return yaml.document.toJS({ maxAliasCount: MAX_ALIAS_COPIES });
  } catch (error) {
    const alias = firstAlias(yaml.document);
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${file}${alias === undefined ? '' : nodePosition(yaml, alias)}: invalid YAML: aliases expand to more than ${MAX_ALIAS_COPIES} copies; write the values out instead`,
      { cause: error },
    );
  }
}

interface StructureProblem {
  readonly node: Node;
  readonly message: string;
}

/**
 * The first repeated key or bad alias (see plainData), in one linear pass over the document.
 * It must not resolve aliases through the YAML library, which scans the document each time.
 */
function structureProblem(document: Document): StructureProblem | undefined {
  const anchors = new Map<string, Node>();
  let aliases = 0;
  let problem: StructureProblem | undefined;
  visit(document, (_key, node, path) => {
    if (isMap(node)) problem = repeatedKey(node);
    if (isAlias(node)) {
      aliases += 1;
      problem = aliasProblem(node, anchors.get(node.source), path, aliases);
    }
    if (isNode(node) && node.anchor !== undefined) anchors.set(node.anchor, node);
    return problem === undefined ? undefined : visit.BREAK;
  });
  return problem;
}

function repeatedKey(map: YAMLMap): StructureProblem | undefined {
  const seen = new Set<unknown>();
  for (const { key } of map.items) {
    const value: unknown = isScalar(key) ? key.value : key;
    if (seen.has(value)) {
      return {
        node: isNode(key) ? key : map,
        message: `the key ${JSON.stringify(String(value))} appears twice`,
      };
    }
    seen.add(value);
  }
  return undefined;
}

function aliasProblem(
  alias: Alias,
  anchored: Node | undefined,
  ancestors: readonly unknown[],
  count: number,
): StructureProblem | undefined {
  const name = alias.source;
  if (anchored === undefined) {
    return { node: alias, message: `the alias *${name} names no anchor &${name} before it` };
  }
  if (ancestors.includes(anchored)) {
    return { node: alias, message: `the alias *${name} is inside the value &${name} it names` };
  }
  if (count > MAX_ALIASES) {
    return {
      node: alias,
      message: `more than ${MAX_ALIASES} aliases; write the values out instead`,
    };
  }
  return undefined;
}

function firstAlias(document: Document): Alias | undefined {
  let found: Alias | undefined;
  visit(document, {
    Alias: (_key, node) => {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/**
 * Text from a document, safe to print on one terminal line: control, line-separator and bidi
 * characters become \u escapes (\n and \t stay short), and long text is cut.
 */
function printable(text: string): string {
  const escaped = text.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (char) =>
    char === '\n'
      ? '\\n'
      : char === '\t'
        ? '\\t'
        : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > 500 ? `${escaped.slice(0, 500)}…` : escaped;
}

async function importModule(path: string, file: string): Promise<unknown[]> {
  const url = pathToFileURL(resolve(path)).href;
  let module: { default?: unknown; scenario?: unknown; scenarios?: unknown };
  try {
    if (path.endsWith('.ts') || path.endsWith('.mts')) {
      const { tsImport } = await import('tsx/esm/api');
      module = (await tsImport(url, import.meta.url)) as typeof module;
    } else {
      module = (await import(url)) as typeof module;
    }
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${file}: cannot load the module: ${describeError(error)}`,
      { cause: error },
    );
  }
  const value = unwrapDefault(module.default) ?? module.scenarios ?? module.scenario;
  if (value === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${file}: the module has no default export (export default defineScenario({...}))`,
    );
  }
  return Array.isArray(value) ? (value as unknown[]) : [value];
}

/** A TypeScript file outside an ESM package loads as CommonJS: its export sits one level down. */
function unwrapDefault(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && 'default' in value) {
    const keys = Object.keys(value).filter((key) => key !== '__esModule');
    if (keys.length === 1) return value.default;
  }
  return value;
}

interface YamlSource {
  readonly document: Document;
  readonly lineCounter: LineCounter;
}

function validate(value: unknown, file: string, yaml: YamlSource | undefined): Scenario {
  const parsed = scenarioSchema.safeParse(value, { error: missingFieldMessage });
  if (!parsed.success) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      formatIssues(file, parsed.error.issues, yaml),
    );
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      formatIssues(
        file,
        problems.map((problem) => ({ path: problem.path, message: problem.message })),
        yaml,
      ),
    );
  }
  return parsed.data;
}

/** "missing: expected string" rather than zod's "…, received undefined". */
function missingFieldMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type' || issue.input !== undefined) return undefined;
  return issue.expected === 'nonoptional' ? 'missing' : `missing: expected ${issue.expected}`;
}

type IssueLike = Pick<z.core.$ZodIssue, 'path' | 'message'>;

/** "file:line:col at target.baseUrl: expected …", one line per problem. */
export function formatIssues(
  file: string,
  issues: readonly IssueLike[],
  yaml: YamlSource | undefined,
): string {
  const lines = issues.slice(0, 10).map((issue) => {
    const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
    const where = yaml === undefined ? file : `${file}${positionOf(yaml, path)}`;
    const at = path.length === 0 ? 'the document' : pathText(path);
    return `${where} at ${printable(at)}: ${printable(issue.message)}`;
  });
  if (issues.length > 10) lines.push(`… and ${issues.length - 10} more problems`);
  return `invalid scenario:\n  ${lines.join('\n  ')}`;
}

function pathText(path: readonly (string | number)[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`,
    )
    .join('');
}

/** ":line:col" of the deepest node of `path` that exists in the YAML document. */
function positionOf(yaml: YamlSource, path: readonly (string | number)[]): string {
  for (let length = path.length; length >= 0; length -= 1) {
    const node: unknown =
      length === 0 ? yaml.document.contents : yaml.document.getIn(path.slice(0, length), true);
    if (isNode(node)) {
      const position = nodePosition(yaml, node);
      if (position !== '') return position;
    }
  }
  return '';
}

/** ":line:col" of a node, or nothing for a node made up rather than read. */
function nodePosition(yaml: YamlSource, node: Node): string {
  if (node.range === undefined || node.range === null) return '';
  const { line, col } = yaml.lineCounter.linePos(node.range[0]);
  return `:${line}:${col}`;
}
