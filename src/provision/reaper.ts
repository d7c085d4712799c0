/**
 * The reaper: `node reaper.js <registry-file> <owner-pid>`, started detached by the first
 * thing an idemproof process registers (see `run-registry.ts`). It holds the read end of a
 * pipe from its owner and does nothing until that pipe closes, which happens however the owner
 * ends, SIGKILL included. Then it removes what the owner's registry file still lists (an owner
 * that ended normally has removed it already) and exits.
 *
 * Must not: act while its owner still runs, outlive its work by more than REAPER_DEADLINE_MS,
 * or write to a terminal.
 */
import { readFile } from 'node:fs/promises';
import { isSameProcess } from './process-identity.js';
import { sweepEntry } from './leftovers.js';
import { registryEntrySchema } from './run-registry.js';

const REAPER_DEADLINE_MS = 60_000;

async function reap(file: string, ownerPid: number): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const entry = registryEntrySchema.parse(JSON.parse(text));
  if (entry.owner.pid !== ownerPid || entry.reaper?.pid !== process.pid) return;
  // The pipe closes as the owner dies; give the kernel a moment to finish it off.
  const deadline = Date.now() + 2000;
  while (isSameProcess(entry.owner) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (isSameProcess(entry.owner)) return;
  setTimeout(() => process.exit(0), REAPER_DEADLINE_MS);
  // Read again: the owner may have stopped more things while it ended.
  const latest = await readFile(file, 'utf8').catch(() => undefined);
  if (latest === undefined) return;
  await sweepEntry(file, registryEntrySchema.parse(JSON.parse(latest)));
}

const [file, owner] = process.argv.slice(2);
if (file !== undefined && owner !== undefined) {
  process.stdin.resume();
  let reaping = false;
  const done = (): void => {
    if (reaping) return;
    reaping = true;
    reap(file, Number(owner)).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.stdin.once('end', done);
  process.stdin.once('close', done);
  process.stdin.once('error', done);
}
