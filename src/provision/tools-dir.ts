import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder that holds package.json, whether running from `src/` or from `dist/`. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where idemproof keeps the tools it installs (the Toxiproxy server):
 * `IDEMPROOF_TOOLS_DIR`, or `.tools/` in the package's own folder.
 */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.IDEMPROOF_TOOLS_DIR;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(PACKAGE_ROOT, '.tools');
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on the PATH, like `command -v`. */
export async function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const folders = (env.PATH ?? '').split(delimiter).filter((folder) => folder !== '');
  for (const folder of folders) {
    const candidate = join(folder, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}
