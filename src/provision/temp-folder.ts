import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { registerCleanup } from './cleanup.js';

/** A folder idemproof created and will remove. */
export interface ManagedFolder {
  readonly path: string;
  /** Removes the folder and its cleanup registration; safe to call more than once. */
  readonly remove: () => Promise<void>;
}

/**
 * Creates a uniquely named folder `<prefix><random>` (as `mkdtemp` does) and registers its
 * removal at once, so it goes on normal end, on signals, on process exit and, after a
 * SIGKILL, through the reaper.
 *
 * Must not: remove anything but the folder it created.
 */
export async function makeManagedFolder(prefix: string, what: string): Promise<ManagedFolder> {
  const path = await mkdtemp(prefix);
  const unregister = registerCleanup({
    name: `${what} ${path}`,
    run: () => rm(path, { recursive: true, force: true }),
    onExit: () => rmSync(path, { recursive: true, force: true }),
    resource: { kind: 'folder', path },
  });
  return {
    path,
    remove: async () => {
      unregister();
      await rm(path, { recursive: true, force: true });
    },
  };
}
