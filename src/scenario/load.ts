import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { IdemproofError, describeError } from '../errors.js';
import { crossFieldProblems } from './cross-field.js';
import { scenarioSchema, type Scenario } from './schema.js';

/** A validated scenario and the file it came from. */
export interface LoadedScenario {
  readonly scenario: Scenario;
  /** Path relative to the working directory, for reports. */
  readonly file: string;
}

const YAML_EXTENSIONS = new Set(['.yaml', '.yml']);
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

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
  const files = await collectScenarioFiles(paths);
  const loaded: LoadedScenario[] = [];
  for (const file of files) loaded.push(...(await loadScenarioFile(file)));
  const names = new Map<string, string>();
  for (const { scenario, file } of loaded) {
    const other = names.get(scenario.name);
    if (other !== undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_SCENARIO',
        `${file}: scenario name '${scenario.name}' is also used by ${other}; names must be unique in a run`,
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
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${file}: cannot read: ${describeError(error)}`,
    );
  });
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntax = document.errors[0];
  if (syntax !== undefined) {
    const position = syntax.linePos?.[0];
    const where = position === undefined ? file : `${file}:${position.line}:${position.col}`;
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${where}: invalid YAML: ${(syntax.message.split('\n')[0] ?? syntax.code).replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  return validate(document.toJS(), file, { document, lineCounter });
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
  const parsed = scenarioSchema.safeParse(value);
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
    return `${where} at ${at}: ${issue.message}`;
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
    if (isNode(node) && node.range !== undefined && node.range !== null) {
      const { line, col } = yaml.lineCounter.linePos(node.range[0]);
      return `:${line}:${col}`;
    }
  }
  return '';
}
