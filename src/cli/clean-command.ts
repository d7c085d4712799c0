import { stat } from 'node:fs/promises';
import { IdemproofError } from '../errors.js';
import { removeRunToxics } from '../nemesis/dependencies.js';
import { ToxiproxyApi } from '../nemesis/toxiproxy-api.js';
import { readRegistry, sweepEntry } from '../provision/leftovers.js';
import { stateDir } from '../provision/run-registry.js';
import { readRunFile } from '../run/run-file.js';
import { EXIT_CODES } from './exit-codes.js';
import type { Output } from './output.js';

export interface CleanCommandOptions {
  readonly toxiproxy?: string;
  readonly all?: boolean;
  readonly dryRun?: boolean;
}

/** Every proxy idemproof creates is named with this, then the run's own id. */
const OWN_PREFIX = 'idemproof_';

/**
 * The name prefix of the proxies to remove: a run folder (its run.json names the run), a
 * run id as printed in proxy names, or every idemproof proxy with `--all`.
 */
async function prefixOf(run: string | undefined, all: boolean): Promise<string> {
  if (run === undefined) return OWN_PREFIX;
  if (all) throw new IdemproofError('IDEMPROOF_ERR_USAGE', 'clean: give a run or --all, not both');
  const isFolder = await stat(run).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (isFolder) return `${OWN_PREFIX}${(await readRunFile(run)).run}_`;
  const id = run.startsWith(OWN_PREFIX) ? run.slice(OWN_PREFIX.length) : run;
  if (!/^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$/.test(id)) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `clean: '${run}' is neither a run folder nor a run id such as 3fa9c2d1`,
    );
  }
  return `${OWN_PREFIX}${id}_`;
}

/**
 * `idemproof clean [run] --toxiproxy URL`: removes proxies a run left on a shared Toxiproxy
 * (after `kill -9`, say). Only names that start with `idemproof_` are ever touched.
 * `idemproof clean` alone removes everything that idemproof processes which no longer run
 * left behind, as the registry lists it (see `sweepLeftovers`).
 */
export async function cleanCommand(
  run: string | undefined,
  options: CleanCommandOptions,
  output: Output,
): Promise<number> {
  if (run === undefined && options.all !== true) {
    if (options.toxiproxy !== undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        'clean --toxiproxy: name a run folder or a run id (the part after idemproof_ in its proxy names), or pass --all to remove every idemproof proxy; `idemproof clean` alone removes what dead idemproof processes left, their proxies included',
      );
    }
    return sweepLeftovers(options.dryRun === true, output);
  }
  const url = options.toxiproxy ?? process.env.TOXIPROXY_URL;
  if (url === undefined || url.trim() === '') {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      'clean: pass --toxiproxy URL (or set TOXIPROXY_URL): the server to clean',
    );
  }
  const prefix = await prefixOf(run, options.all === true);
  const api = new ToxiproxyApi(url.trim().replace(/\/+$/, ''));
  const names = (await api.listProxies())
    .map((proxy) => proxy.name)
    .filter((name) => name.startsWith(prefix))
    .sort();
  // Toxics a run held on proxies it adopted (dependency lanes) carry its prefix too.
  const toxics = await removeRunToxics(api, prefix, { dryRun: options.dryRun === true });
  if (toxics.length > 0) {
    output.result(
      `${options.dryRun === true ? 'would remove' : 'removed'} ${toxics.length} toxics from adopted proxies on ${api.url}:\n  ${toxics.join('\n  ')}`,
    );
  }
  if (names.length === 0) {
    output.result(`nothing to remove: no proxy named ${prefix}* on ${api.url}`);
    return EXIT_CODES.ok;
  }
  if (options.dryRun === true) {
    output.result(`would remove ${names.length} proxies from ${api.url}:\n  ${names.join('\n  ')}`);
    return EXIT_CODES.ok;
  }
  for (const name of names) await api.removeProxy(name);
  output.result(`removed ${names.length} proxies from ${api.url}:\n  ${names.join('\n  ')}`);
  return EXIT_CODES.ok;
}

/**
 * Reads the registry of what idemproof processes started and, for every process that no
 * longer runs, stops its child servers (only when the pid still runs the recorded program),
 * removes its temporary folders, its proxies and its containers. Processes still running are
 * left alone. Exits 3 when something could not be removed (its entry is kept for next time).
 */
async function sweepLeftovers(dryRun: boolean, output: Output): Promise<number> {
  const dir = stateDir();
  const lines: string[] = [];
  let failures = 0;
  let dead = 0;
  for (const found of await readRegistry(dir)) {
    if (found.state === 'unreadable') {
      lines.push(`skipped ${found.file}: not a registry entry (${found.reason})`);
      continue;
    }
    const { owner } = found.entry;
    if (found.state === 'live') {
      lines.push(`left alone: pid ${owner.pid} (${owner.command}) is still running`);
      continue;
    }
    dead += 1;
    const swept = await sweepEntry(found.file, found.entry, dryRun);
    failures += swept.failures;
    lines.push(
      `pid ${owner.pid} (${owner.command}, started ${owner.startedAt}) no longer runs:`,
      ...swept.lines.map((line) => `  ${line}`),
    );
  }
  if (dead === 0)
    lines.unshift(`nothing to remove: no dead idemproof process left anything (${dir})`);
  else
    lines.unshift(
      `${dryRun ? 'would remove' : 'removed'} what ${dead} dead idemproof process(es) left (${dir}):`,
    );
  output.result(lines.join('\n'));
  return failures === 0 ? EXIT_CODES.ok : EXIT_CODES.infrastructure;
}
