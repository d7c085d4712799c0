import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes one report file into the run's folder: to a temporary name first, then renamed, so a
 * reader (or CI artifact upload) never sees half a file. Returns the file's path.
 *
 * Must not: write outside `dir`.
 */
export async function writeReportFile(dir: string, name: string, content: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  const partial = join(dir, `.${name}.${process.pid}.partial`);
  await writeFile(partial, content, 'utf8');
  await rename(partial, path);
  return path;
}
