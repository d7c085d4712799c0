import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import { isSameProcess } from './process-identity.js';
import { reclaim } from './reclaim.js';
import { registryEntrySchema, stateDir, type RegistryEntry } from './run-registry.js';

/** One registry file, read and judged. */
export type RegistryFile =
  | { readonly file: string; readonly state: 'dead' | 'live'; readonly entry: RegistryEntry }
  | { readonly file: string; readonly state: 'unreadable'; readonly reason: string };

/**
 * Reads every registry entry in `dir` (default: the state folder). An entry whose owner no
 * longer runs (pid gone, or reused by a process that started later) is `dead`: what it lists
 * was left behind. A file that is not a valid entry is `unreadable` and never acted on.
 */
export async function readRegistry(dir: string = stateDir()): Promise<RegistryFile[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files: RegistryFile[] = [];
  for (const name of names.filter((candidate) => candidate.endsWith('.json')).sort()) {
    const file = join(dir, name);
    try {
      const entry = registryEntrySchema.parse(JSON.parse(await readFile(file, 'utf8')));
      files.push({ file, entry, state: isSameProcess(entry.owner) ? 'live' : 'dead' });
    } catch (error) {
      files.push({ file, state: 'unreadable', reason: describeError(error).slice(0, 200) });
    }
  }
  return files;
}

/** What removing one dead process's leftovers did. */
export interface Swept {
  readonly file: string;
  readonly entry: RegistryEntry;
  readonly lines: readonly string[];
  readonly failures: number;
}

/**
 * Removes what `entry` lists and then its file; the file stays when something could not be
 * removed, so a later `clean` tries again. With `dryRun`, changes nothing.
 */
export async function sweepEntry(
  file: string,
  entry: RegistryEntry,
  dryRun = false,
): Promise<Swept> {
  const { lines, failures } = await reclaim(entry, dryRun);
  if (!dryRun && failures === 0) await rm(file, { force: true });
  return { file, entry, lines, failures };
}
