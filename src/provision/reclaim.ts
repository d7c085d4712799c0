import { execFile } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import { basename, isAbsolute, normalize } from 'node:path';
import { promisify } from 'node:util';
import { withDeadline } from '../client/deadline.js';
import { describeError } from '../errors.js';
import { removeRunToxics } from '../nemesis/dependencies.js';
import { ToxiproxyApi } from '../nemesis/toxiproxy-api.js';
import { isSameProcess } from './process-identity.js';
import type { RegistryEntry, TrackedResource } from './run-registry.js';

/**
 * Removes what a dead idemproof process left, as its registry entry lists it: kills its child
 * servers, deletes its temporary folders, its proxies on a Toxiproxy server and its containers.
 * Used by the reaper (right after the owner dies) and by `idemproof clean` (any time later).
 *
 * Must not: kill a pid that no longer runs the recorded process (pids are reused), remove a
 * folder that is not an `idemproof-*` folder, or touch a proxy outside the run's own prefix.
 */

export interface Reclaimed {
  /** One line per resource: "killed postgres (pid 12)", "already gone: …", "refused: …". */
  readonly lines: string[];
  /** Resources that could not be removed (the entry is kept, so `clean` can try again). */
  readonly failures: number;
}

const STOP_GRACE_MS = 5000;
/** A reaper or `clean` must not hang on a Toxiproxy that accepts and never answers. */
const LIST_TIMEOUT_MS = 5000;
/** A run's proxy prefix: idemproof_ and at least one id part, never idemproof_ alone. */
const PROXY_PREFIX = /^idemproof_[A-Za-z0-9]+(_[A-Za-z0-9]+)*$/;
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

async function waitForExit(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

async function reclaimProcess(
  resource: Extract<TrackedResource, { kind: 'process' }>,
  dryRun: boolean,
): Promise<string> {
  const what = `${resource.name} (pid ${resource.pid}, ${basename(resource.command)})`;
  const alive = (): boolean =>
    resource.pid !== process.pid && isSameProcess(resource, resource.command);
  if (!alive()) return `already gone: ${what}`;
  if (dryRun) return `would stop ${what}`;
  process.kill(resource.pid, resource.stopSignal);
  if (await waitForExit(alive, STOP_GRACE_MS)) return `stopped ${what}`;
  process.kill(resource.pid, 'SIGKILL');
  if (await waitForExit(alive, 2000)) return `killed ${what}`;
  throw new Error(`${what} is still running after SIGKILL`);
}

/** Only an absolute, normalised path to a real `idemproof-*` folder (never a link) is removed. */
async function reclaimFolder(path: string, dryRun: boolean): Promise<string> {
  if (!isAbsolute(path) || normalize(path) !== path || !basename(path).startsWith('idemproof-')) {
    throw new Error(`refused to remove ${JSON.stringify(path)}: not an idemproof-* folder`);
  }
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return `already gone: folder ${path}`;
  if (!info.isDirectory()) throw new Error(`refused to remove ${path}: not a folder`);
  if (dryRun) return `would remove folder ${path}`;
  await rm(path, { recursive: true, force: true });
  return `removed folder ${path}`;
}

async function reclaimProxies(
  toxiproxy: string,
  prefix: string,
  dryRun: boolean,
  ownServer: boolean,
): Promise<string> {
  if (!PROXY_PREFIX.test(prefix)) {
    throw new Error(
      `refused proxy prefix ${JSON.stringify(prefix)}: not one run's idemproof_ prefix`,
    );
  }
  const api = new ToxiproxyApi(toxiproxy);
  let names: string[];
  try {
    names = (await proxyNames(api.url)).filter((name) => name.startsWith(`${prefix}_`)).sort();
  } catch (error) {
    // Toxiproxy keeps proxies in memory: a server that refuses connections (or one the dead
    // process had started itself) took them along. A server that answers badly or not at all
    // is a failure, and the entry is kept for next time.
    if (ownServer || refused(error))
      return `gone with its server: proxies ${prefix}_* on ${api.url}`;
    throw error;
  }
  // Toxics the run held on proxies it adopted (dependency lanes): named with its prefix.
  const toxics = await removeRunToxics(api, `${prefix}_`, { dryRun });
  const adopted =
    toxics.length === 0
      ? ''
      : `; ${dryRun ? 'would remove' : 'removed'} its toxics from adopted proxies: ${toxics.join(', ')}`;
  if (names.length === 0) return `already gone: proxies ${prefix}_* on ${api.url}${adopted}`;
  if (dryRun) return `would remove proxies from ${api.url}: ${names.join(', ')}${adopted}`;
  for (const name of names) await api.removeProxy(name);
  return `removed proxies from ${api.url}: ${names.join(', ')}${adopted}`;
}

/** The names of the proxies on a Toxiproxy server, within LIST_TIMEOUT_MS. */
async function proxyNames(url: string): Promise<string[]> {
  return withDeadline(LIST_TIMEOUT_MS, async (signal) => {
    const response = await fetch(`${url}/proxies`, { signal });
    if (!response.ok) throw new Error(`GET ${url}/proxies answered ${response.status}`);
    return Object.keys((await response.json()) as Record<string, unknown>);
  });
}

/** Was the connection refused (nothing listens there)? Looks through the error's causes. */
function refused(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Object && depth < 5; depth += 1) {
    if ((current as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

async function reclaimContainer(id: string, image: string, dryRun: boolean): Promise<string> {
  if (!CONTAINER_ID.test(id)) throw new Error(`refused container id ${JSON.stringify(id)}`);
  if (dryRun) return `would remove container ${id.slice(0, 12)} (${image})`;
  try {
    await promisify(execFile)('docker', ['rm', '-f', id], { timeout: 30_000 });
  } catch (error) {
    if (/No such container/i.test(describeError(error))) {
      return `already gone: container ${id.slice(0, 12)}`;
    }
    throw error;
  }
  return `removed container ${id.slice(0, 12)} (${image})`;
}

function reclaimResource(
  resource: TrackedResource,
  dryRun: boolean,
  ownServer: boolean,
): Promise<string> {
  switch (resource.kind) {
    case 'process':
      return reclaimProcess(resource, dryRun);
    case 'folder':
      return reclaimFolder(resource.path, dryRun);
    case 'proxies':
      return reclaimProxies(resource.toxiproxy, resource.prefix, dryRun, ownServer);
    case 'container':
      return reclaimContainer(resource.id, resource.image, dryRun);
  }
}

/**
 * Removes every resource of `entry`, newest first (proxies before the server that holds them,
 * a server before its data folder), and says what it did; with `dryRun`, only what it would do.
 */
export async function reclaim(entry: RegistryEntry, dryRun = false): Promise<Reclaimed> {
  const lines: string[] = [];
  let failures = 0;
  // Did the dead process start its own Toxiproxy? Then an unreachable one took its proxies along.
  const ownServer = entry.resources.some(
    (resource) => resource.kind === 'process' && resource.name === 'toxiproxy-server',
  );
  for (const resource of [...entry.resources].reverse()) {
    try {
      lines.push(await reclaimResource(resource, dryRun, ownServer));
    } catch (error) {
      failures += 1;
      lines.push(`failed: ${describeError(error)}`);
    }
  }
  return { lines, failures };
}
