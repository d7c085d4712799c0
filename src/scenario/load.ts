import { dirname, extname, resolve } from 'node:path';
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
import { IdemproofError, isIdemproofError } from '../errors.js';
import { resolveBodyFiles } from './body-files.js';
import { crossFieldProblems } from './cross-field.js';
import { rememberEnvReferences } from './env-refs.js';
import {
  YAML_EXTENSIONS,
  displayPath,
  findScenarioFiles,
  isModulePath,
  readScenarioText,
  type SkippedFile,
} from './files.js';
import { evaluateScenarioModule } from './module-load.js';
import { printable } from './printable.js';
import type { Profile } from './profile.js';
import { isProfilePath, loadProfileFile } from './profile-file.js';
import { scenarioSchema, type Scenario, type ScenarioInput } from './schema.js';
import { expansionProblem } from './yaml-size.js';

export { printable } from './printable.js';
export { findScenarioFiles, isScenarioName, type SkippedFile } from './files.js';

/** A validated scenario and the file it came from. */
export interface LoadedScenario {
  readonly scenario: Scenario;
  /** Path relative to the working directory, for reports (raw: print it with `printable`). */
  readonly file: string;
  /**
   * The profile file the scenario's `profile:` names (relative to the scenario's folder), as
   * loaded; absent when it names a built-in profile. `--profile` wins over it.
   */
  readonly profileFile?: Profile | undefined;
}

export interface LoadFilesOptions {
  /** Told about each module in a scanned folder that the naming rule leaves out. */
  readonly onSkipped?: ((skipped: SkippedFile) => void) | undefined;
}

/** More aliases than any scenario needs; each costs the YAML library a scan of the anchors. */
const MAX_ALIASES = 100;
/** How many copies aliases may expand to in all (the YAML library's guard against bombs). */
const MAX_ALIAS_COPIES = 100;

/** Expands files and folders (recursively, sorted) into scenario files (see `files.ts`). */
export async function collectScenarioFiles(paths: readonly string[]): Promise<string[]> {
  return (await findScenarioFiles(paths)).files;
}

export async function loadScenarioFiles(
  paths: readonly string[],
  options: LoadFilesOptions = {},
): Promise<LoadedScenario[]> {
  return uniquelyNamed(await loadEachFile(paths, options));
}

async function loadEachFile(
  paths: readonly string[],
  options: LoadFilesOptions,
): Promise<LoadedScenario[]> {
  const { files, skipped } = await findScenarioFiles(paths);
  for (const entry of skipped) options.onSkipped?.(entry);
  const loaded: LoadedScenario[] = [];
  for (const file of files) loaded.push(...(await loadScenarioFile(file)));
  return loaded;
}

/** A scenario file or folder, or a scenario object (`defineScenario({...})`). */
export type ScenarioSource = string | ScenarioInput;

/**
 * Files, folders and scenario objects, in the order given. An object is validated by the same
 * schema and cross-field rules as a file; its errors name the scenario instead of a file, and
 * the files it names (bodies, a profile file) are relative to the working directory.
 */
export async function loadScenarioSources(
  sources: readonly ScenarioSource[],
): Promise<LoadedScenario[]> {
  const loaded: LoadedScenario[] = [];
  for (const [index, source] of sources.entries()) {
    if (typeof source === 'string') {
      loaded.push(...(await loadEachFile([source], {})));
    } else {
      const label = scenarioLabel(source, index);
      const value = await withBodyFiles(source, process.cwd(), label, undefined);
      loaded.push({ ...(await validate(value, label, undefined, process.cwd())), file: label });
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
        `${printable(file)}: scenario name '${printable(scenario.name)}' is also used by ${printable(other)}; names must be unique in a run`,
      );
    }
    names.set(scenario.name, file);
  }
  return loaded;
}

/**
 * Loads one file: a YAML document, or a module whose default export is one scenario or a list.
 * A module runs in a child process with time, memory and size limits (`module-load.ts`).
 */
export async function loadScenarioFile(path: string): Promise<LoadedScenario[]> {
  const file = displayPath(path);
  if (YAML_EXTENSIONS.has(extname(path))) return [{ ...(await loadYaml(path, file)), file }];
  if (isModulePath(path)) {
    const values = await evaluateScenarioModule(path, file);
    return Promise.all(
      values.map(async (value, index) => {
        const label = values.length > 1 ? `${file} (scenario ${index + 1})` : file;
        const resolved = await withBodyFiles(value, dirname(path), label, undefined);
        return { ...(await validate(resolved, label, undefined, dirname(path))), file };
      }),
    );
  }
  throw new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `${printable(file)}: not a scenario file (expected .yaml, .yml, .ts, .mts, .js or .mjs)`,
  );
}

async function loadYaml(path: string, file: string): Promise<Validated> {
  const yaml = parseYamlText(await readScenarioText(path), file);
  const value = plainData(yaml, file);
  if (value !== null && typeof value === 'object' && 'consumer' in value) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${printable(file)}: a consumer scenario (it names consumer:): idemproof run and validate take it; this command tests HTTP APIs`,
    );
  }
  return validate(await withBodyFiles(value, dirname(path), file, yaml), file, yaml, dirname(path));
}

/**
 * A YAML document (JSON is YAML too) parsed with the positions of its nodes, for errors at
 * file:line:col; a syntax error is thrown naming where it is.
 */
export function parseYamlText(text: string, file: string): YamlSource {
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
    const where = `${printable(file)}${position === undefined ? '' : `:${position.line}:${position.col}`}`;
    const message =
      syntax.code === 'RESOURCE_EXHAUSTION'
        ? 'nested too deeply'
        : (syntax.message.split('\n')[0] ?? syntax.code).replace(/ at line \d+, column \d+:?$/, '');
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${where}: invalid YAML: ${printable(message)}`,
    );
  }
  return { document, lineCounter };
}

/**
 * The document as plain data. Refuses what would make that data wrong or huge: a repeated
 * key, an alias without an anchor before it, an alias inside the value it names, aliases that
 * expand past MAX_ALIAS_COPIES copies (a "billion laughs" bomb), and a document that would be
 * larger or deeper than SCENARIO_LIMITS once expanded (measured before anything is expanded).
 */
export function plainData(yaml: YamlSource, file: string): unknown {
  const problem = structureProblem(yaml.document) ?? expansionProblem(yaml.document);
  if (problem !== undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${printable(file)}${nodePosition(yaml, problem.node)}: invalid YAML: ${printable(problem.message)}`,
    );
  }
  try {
    return yaml.document.toJS({ maxAliasCount: MAX_ALIAS_COPIES });
  } catch (error) {
    const alias = firstAlias(yaml.document);
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${printable(file)}${alias === undefined ? '' : nodePosition(yaml, alias)}: invalid YAML: aliases expand to more than ${MAX_ALIAS_COPIES} copies; write the values out instead`,
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

export interface YamlSource {
  readonly document: Document;
  readonly lineCounter: LineCounter;
}

/** `value` with the files its bodies name read in (`body-files.ts`), relative to `folder`. */
async function withBodyFiles(
  value: unknown,
  folder: string,
  file: string,
  yaml: YamlSource | undefined,
): Promise<unknown> {
  const { value: resolved, problems } = await resolveBodyFiles(value, folder);
  if (problems.length > 0)
    throw new IdemproofError('IDEMPROOF_ERR_SCENARIO', formatIssues(file, problems, yaml));
  return resolved;
}

/** A scenario, and the profile file its `profile:` names, loaded. */
interface Validated {
  readonly scenario: Scenario;
  readonly profileFile?: Profile;
}

/**
 * The profile file a scenario's `profile:` names, relative to `folder` (the scenario file's);
 * undefined for a built-in name. A file that cannot be read or is not a valid profile is the
 * scenario's error: at its `profile` field, with the profile file's own file:line:col below.
 */
async function scenarioProfileFile(
  profile: string,
  folder: string,
  file: string,
  yaml: YamlSource | undefined,
): Promise<Profile | undefined> {
  if (!isProfilePath(profile)) return undefined;
  try {
    return await loadProfileFile(resolve(folder, profile));
  } catch (error) {
    if (!isIdemproofError(error)) throw error;
    const named = formatIssues(
      file,
      [{ path: ['profile'], message: `cannot use the profile file '${profile}':` }],
      yaml,
    );
    const cause = error.message
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n');
    throw new IdemproofError('IDEMPROOF_ERR_SCENARIO', `${named}\n${cause}`, { cause: error });
  }
}

async function validate(
  value: unknown,
  file: string,
  yaml: YamlSource | undefined,
  folder: string,
): Promise<Validated> {
  const parsed = scenarioSchema.safeParse(value, { error: missingFieldMessage });
  if (!parsed.success) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      formatIssues(file, parsed.error.issues, yaml),
    );
  }
  const profileFile = await scenarioProfileFile(parsed.data.profile, folder, file, yaml);
  const problems = crossFieldProblems(parsed.data, profileFile);
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
  rememberEnvReferences(
    parsed.data,
    (path) => `${file}${yaml === undefined ? '' : positionOf(yaml, path)} at ${pathText(path)}`,
  );
  return profileFile === undefined
    ? { scenario: parsed.data }
    : { scenario: parsed.data, profileFile };
}

/** "missing: expected string" rather than zod's "…, received undefined". */
export function missingFieldMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type' || issue.input !== undefined) return undefined;
  return issue.expected === 'nonoptional' ? 'missing' : `missing: expected ${issue.expected}`;
}

type IssueLike = Pick<z.core.$ZodIssue, 'path' | 'message'>;

/** "file:line:col at target.baseUrl: expected …", one line per problem. */
export function formatIssues(
  file: string,
  issues: readonly IssueLike[],
  yaml: YamlSource | undefined,
  what = 'scenario',
): string {
  const lines = issues.slice(0, 10).map((issue) => {
    const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
    const where = `${printable(file)}${yaml === undefined ? '' : positionOf(yaml, path)}`;
    const at = path.length === 0 ? 'the document' : pathText(path);
    return `${where} at ${printable(at)}: ${printable(issue.message)}`;
  });
  if (issues.length > 10) lines.push(`… and ${issues.length - 10} more problems`);
  return `invalid ${what}:\n  ${lines.join('\n  ')}`;
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
