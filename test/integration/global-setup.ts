import { execFileSync } from 'node:child_process';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPostgres } from '../../src/provision/postgres.js';
import { startToxiproxy } from '../../src/provision/toxiproxy-start.js';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A real PostgreSQL server (embedded unless DATABASE_URL is set). */
    databaseUrl: string;
    /** A real Toxiproxy server, found the way idemproof finds it. */
    toxiproxyUrl: string;
  }
}

function newestMtime(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The CLI tests run the compiled bin, so compile it when src/ is newer than dist/. */
function buildIfStale(): void {
  let built = 0;
  try {
    built = statSync(join(PACKAGE_ROOT, 'dist', 'cli', 'bin.js')).mtimeMs;
  } catch {
    built = 0;
  }
  if (newestMtime(join(PACKAGE_ROOT, 'src')) > built) {
    execFileSync(
      process.execPath,
      [join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: PACKAGE_ROOT,
        stdio: 'inherit',
      },
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildIfStale();
  const postgres = await startPostgres();
  const toxiproxy = await startToxiproxy().catch(async (error: unknown) => {
    await postgres.stop();
    throw error;
  });
  project.provide('databaseUrl', postgres.url);
  project.provide('toxiproxyUrl', toxiproxy.url);
  return async () => {
    await toxiproxy.stop();
    await postgres.stop();
  };
}
