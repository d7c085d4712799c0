import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { z } from 'zod';
import { identify } from './process-identity.js';
import { PACKAGE_ROOT } from './tools-dir.js';

/**
 * The on-disk registry of what live idemproof processes started: one JSON file per process
 * under the state folder, naming its owner (pid and start time), its child processes (pid,
 * start time, command), its temporary folders, its proxies on a Toxiproxy server and its
 * containers. It is rewritten (atomically) whenever something starts or stops, and deleted
 * when the process ends with nothing left. A process killed with SIGKILL leaves its file
 * behind: the reaper (`reaper.ts`) and `idemproof clean` read it to remove what it lists.
 *
 * Must not: fail the caller (a registry that cannot be written is reported once on stderr),
 * or record anything but what this process started.
 */

const signalName = z.string().regex(/^SIG[A-Z0-9]+$/);

export const trackedResourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('process'),
    name: z.string(),
    pid: z.number().int().positive(),
    startTime: z.string().nullable(),
    command: z.string().min(1),
    stopSignal: signalName,
  }),
  z.object({ kind: z.literal('folder'), path: z.string().min(1) }),
  z.object({
    kind: z.literal('proxies'),
    toxiproxy: z.string().url(),
    prefix: z.string(),
  }),
  z.object({ kind: z.literal('container'), id: z.string(), image: z.string() }),
]);

export type TrackedResource = z.infer<typeof trackedResourceSchema>;

const identitySchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.string().nullable(),
});

export const registryEntrySchema = z.object({
  version: z.literal(1),
  owner: identitySchema.extend({ command: z.string(), startedAt: z.string() }),
  reaper: identitySchema.nullable(),
  resources: z.array(trackedResourceSchema),
});

export type RegistryEntry = z.infer<typeof registryEntrySchema>;

/**
 * Where the registry lives: IDEMPROOF_STATE_DIR, else $XDG_STATE_HOME/idemproof/processes,
 * else ~/.local/state/idemproof/processes (or the temporary folder when there is no home).
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.IDEMPROOF_STATE_DIR;
  if (override !== undefined && override !== '') return resolve(override);
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'idemproof', 'processes');
  let home = '';
  try {
    home = homedir();
  } catch {
    home = '';
  }
  return home === ''
    ? join(tmpdir(), `idemproof-state-${process.getuid?.() ?? 'user'}`)
    : join(home, '.local', 'state', 'idemproof', 'processes');
}

/**
 * Creates the state folder (mode 0700) and refuses one that is a symbolic link or belongs to
 * another user, so nobody else can plant entries that `clean` would act on.
 */
export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = lstatSync(dir);
  if (!info.isDirectory()) throw new Error(`${dir} is not a folder (a symbolic link?)`);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new Error(`${dir} belongs to uid ${info.uid}, not to this user (uid ${uid})`);
  }
  if ((info.mode & 0o022) !== 0) throw new Error(`${dir} is writable by others`);
}

interface Registry {
  readonly file: string;
  readonly entry: Omit<RegistryEntry, 'resources' | 'reaper'>;
  readonly resources: Map<number, TrackedResource>;
  reaper: RegistryEntry['reaper'];
  broken: boolean;
}

let registry: Registry | undefined;
let nextId = 1;

function open(): Registry {
  if (registry !== undefined) return registry;
  const owner = identify(process.pid);
  const dir = stateDir();
  registry = {
    file: join(dir, `${owner.pid}-${owner.startTime ?? Date.now()}-${threadId}.json`),
    entry: {
      version: 1,
      owner: {
        ...owner,
        command: commandLine(process.argv),
        startedAt: new Date().toISOString(),
      },
    },
    resources: new Map(),
    reaper: null,
    broken: false,
  };
  try {
    ensureStateDir(dir);
  } catch (error) {
    warn(registry, error);
  }
  return registry;
}

/** "idemproof demo --serve" for the CLI; the script's name and arguments otherwise. */
function commandLine(argv: readonly string[]): string {
  const script = argv[1] ?? '';
  const name = /[\\/]cli[\\/]bin\.[jt]s$/.test(script) ? 'idemproof' : basename(script);
  return [name, ...argv.slice(2)].join(' ').slice(0, 500);
}

function warn(current: Registry, error: unknown): void {
  if (current.broken) return;
  current.broken = true;
  process.stderr.write(
    `idemproof: cannot record what this process starts in ${current.file} (${error instanceof Error ? error.message : String(error)}); after a kill -9, \`idemproof clean\` will not find it\n`,
  );
}

function write(current: Registry): void {
  if (current.broken) return;
  try {
    if (current.resources.size === 0) {
      rmSync(current.file, { force: true });
      return;
    }
    const entry: RegistryEntry = {
      ...current.entry,
      reaper: current.reaper,
      resources: [...current.resources.values()],
    };
    const staging = `${current.file}.${process.pid}.tmp`;
    writeFileSync(staging, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
    renameSync(staging, current.file);
  } catch (error) {
    warn(current, error);
  }
}

/** The compiled reaper beside this file, or in dist/ when running from src/ (tests). */
function reaperScript(): string | undefined {
  const beside = fileURLToPath(new URL('./reaper.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = join(PACKAGE_ROOT, 'dist', 'provision', 'reaper.js');
  return existsSync(built) ? built : undefined;
}

/**
 * Starts the reaper once per process: a detached node process holding the read end of a pipe.
 * When this process ends in any way (SIGKILL included) the pipe closes, and the reaper
 * removes what the registry file still lists. Neither the pipe nor the child keeps this
 * process alive.
 */
function startReaper(current: Registry): void {
  if (current.reaper !== null || current.broken || process.env.IDEMPROOF_REAPER === 'off') return;
  const script = reaperScript();
  if (script === undefined) return;
  try {
    const child = spawn(process.execPath, [script, current.file, String(process.pid)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => undefined);
    child.stdin.on('error', () => undefined);
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.unref();
    if (child.pid !== undefined) current.reaper = identify(child.pid);
  } catch {
    // Without a reaper, `idemproof clean` still finds everything through the registry.
  }
}

/**
 * Records `resource` as started by this process (and starts the reaper if it is the first);
 * returns the function that forgets it once it is stopped or removed.
 */
export function track(resource: TrackedResource): () => void {
  const current = open();
  const id = nextId;
  nextId += 1;
  current.resources.set(id, resource);
  startReaper(current);
  write(current);
  return () => {
    if (current.resources.delete(id)) write(current);
  };
}

/** The registry file of this process (for tests and messages), whether or not it exists. */
export function registryFile(): string {
  return open().file;
}
