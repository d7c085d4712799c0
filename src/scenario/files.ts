import { constants } from 'node:fs';
import { lstat, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { IdemproofError, describeError, isIdemproofError } from '../errors.js';
import { SCENARIO_LIMITS } from './limits.js';
import { printable } from './printable.js';

/**
 * Which files are scenarios, and reading them without being fooled by what a path names.
 *
 * Naming rule: in a folder, YAML files (.yaml, .yml) and modules named `*.scenario.ts`
 * (`.mts`, `.js`, `.mjs`) are scenarios. Other modules beside them (helpers, configs) are
 * listed as skipped and never run. A file named on the command line may be any supported
 * extension. Only regular files are read: a FIFO, device or socket is refused by its stat,
 * without opening it (a FIFO would block the reader forever). Symbolic links to regular files
 * are followed; links to folders inside a scanned folder are not (they could loop).
 *
 * Must not: open anything before its stat says it is a regular file of bounded size.
 */

export const YAML_EXTENSIONS: ReadonlySet<string> = new Set(['.yaml', '.yml']);
export const MODULE_EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.mts', '.js', '.mjs']);
/** Code files that are not scenarios in a folder unless named *.scenario.<ext>. */
const CODE_EXTENSIONS = new Set([...MODULE_EXTENSIONS, '.cts', '.cjs', '.tsx', '.jsx']);
/** Folders never scanned: dependencies and hidden folders (.git, .cache). */
const UNSCANNED_FOLDERS = new Set(['node_modules']);

export const NAMING_RULE = '.yaml, .yml, or modules named *.scenario.ts, .mts, .js or .mjs';

/** A file in a scanned folder that was not loaded, and why. */
export interface SkippedFile {
  /** Path relative to the working directory (raw; print it with `printable`). */
  readonly file: string;
  readonly reason: string;
}

export interface FoundScenarioFiles {
  readonly files: string[];
  readonly skipped: SkippedFile[];
}

/** The path as reports name it: relative to the working directory. */
export function displayPath(path: string): string {
  return relative(process.cwd(), resolve(path)) || path;
}

/** Is this a module (TypeScript or JavaScript) rather than YAML? */
export function isModulePath(path: string): boolean {
  return MODULE_EXTENSIONS.has(extname(path));
}

/** Scenario files in a folder: YAML, or modules named *.scenario.<ext>. */
export function isScenarioName(name: string): boolean {
  const extension = extname(name);
  if (YAML_EXTENSIONS.has(extension)) return true;
  return MODULE_EXTENSIONS.has(extension) && extname(basename(name, extension)) === '.scenario';
}

/**
 * Expands files and folders (recursively, sorted) into scenario files and the modules skipped
 * by the naming rule. A named path must exist and be a regular file or a folder.
 */
export async function findScenarioFiles(paths: readonly string[]): Promise<FoundScenarioFiles> {
  const files: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        `no such scenario file or folder: ${printable(path)}`,
      );
    }
    if (info.isDirectory()) {
      const before = { files: files.length, skipped: skipped.length };
      await scanFolder(path, files, skipped);
      if (files.length === before.files) {
        const names = skipped.slice(before.skipped).map(({ file }) => printable(file));
        throw new IdemproofError(
          'IDEMPROOF_ERR_USAGE',
          `no scenario files (${NAMING_RULE}) in folder ${printable(path)}${
            names.length === 0 ? '' : `; skipped: ${names.slice(0, 10).join(', ')}`
          }`,
        );
      }
    } else {
      refuseSpecialFile(path, info);
      files.push(path);
    }
  }
  return { files, skipped };
}

async function scanFolder(folder: string, files: string[], skipped: SkippedFile[]): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true }).catch((error: unknown) => {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${printable(displayPath(folder))}: cannot read the folder: ${printable(describeError(error))}`,
    );
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !UNSCANNED_FOLDERS.has(entry.name))
        await scanFolder(path, files, skipped);
      continue;
    }
    const extension = extname(entry.name);
    const scenario = isScenarioName(entry.name);
    if (!scenario) {
      if (CODE_EXTENSIONS.has(extension) && !/\.d\.[cm]?ts$/.test(entry.name)) {
        skipped.push({
          file: displayPath(path),
          reason: `not named *.scenario${extension}, so not run`,
        });
      }
      continue;
    }
    // Nothing is opened here: loading the file checks that it is a regular file (a FIFO named
    // x.yaml is then refused by its stat, a link to a folder as a folder).
    files.push(path);
  }
}

/** Throws the scenario error for anything but a regular file (a FIFO, device, socket). */
export function refuseSpecialFile(path: string, info: Stats): void {
  if (info.isFile()) return;
  throw new IdemproofError(
    'IDEMPROOF_ERR_SCENARIO',
    `${printable(displayPath(path))}: not a regular file (${kindOf(info)}); scenario files must be regular files`,
  );
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}

/**
 * The stat of a scenario file that may be read: a regular file (links followed) no larger than
 * the file limit. Nothing is opened.
 */
export async function scenarioFileStat(path: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    const link = await lstat(path).catch(() => undefined);
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${printable(displayPath(path))}: cannot read${link?.isSymbolicLink() === true ? ' (a symbolic link to nothing)' : ''}: ${printable(describeError(error))}`,
    );
  }
  refuseSpecialFile(path, info);
  refuseLargeFile(path, info.size);
  return info;
}

function refuseLargeFile(path: string, size: number): void {
  if (size <= SCENARIO_LIMITS.fileBytes) return;
  throw new IdemproofError(
    'IDEMPROOF_ERR_SCENARIO',
    `${printable(displayPath(path))}: the file is ${(size / 1e6).toFixed(1)} MB; scenario files are limited to ${SCENARIO_LIMITS.fileBytes / 1e6} MB`,
  );
}

/**
 * The text of a scenario file. Checks the stat first (nothing else is opened), then opens it
 * without blocking and checks again on the open file, so a file swapped for a FIFO in between
 * is refused too; reads at most the file limit.
 */
export async function readScenarioText(path: string): Promise<string> {
  await scenarioFileStat(path);
  const cannotRead = (error: unknown): never => {
    if (isIdemproofError(error)) throw error;
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${printable(displayPath(path))}: cannot read: ${printable(describeError(error))}`,
    );
  };
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch(
    cannotRead,
  );
  try {
    const info = await handle.stat().catch(cannotRead);
    refuseSpecialFile(path, info);
    refuseLargeFile(path, info.size);
    // One byte more than the stat said, to notice a file that grew since.
    return await readAtMost(handle, info.size + 1, path).catch(cannotRead);
  } finally {
    await handle.close();
  }
}

async function readAtMost(handle: FileHandle, limit: number, path: string): Promise<string> {
  const buffer = Buffer.allocUnsafe(limit);
  let length = 0;
  while (length < limit) {
    const { bytesRead } = await handle.read(buffer, length, limit - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  // The file grew after its stat: refuse it rather than read more than was checked.
  if (length === limit) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${printable(displayPath(path))}: the file changed while it was read; try again`,
    );
  }
  return buffer.subarray(0, length).toString('utf8');
}
