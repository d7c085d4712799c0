import { stat } from 'node:fs/promises';
import { IdemproofError } from '../errors.js';
import { ToxiproxyApi } from '../nemesis/toxiproxy-api.js';
import { readRunFile } from '../run/run-file.js';
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
  if (run === undefined) {
    if (all) return OWN_PREFIX;
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      'clean: name a run folder or a run id (the part after idemproof_ in its proxy names), or pass --all to remove every idemproof proxy',
    );
  }
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
 */
export async function cleanCommand(
  run: string | undefined,
  options: CleanCommandOptions,
  output: Output,
): Promise<number> {
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
  if (names.length === 0) {
    output.result(`nothing to remove: no proxy named ${prefix}* on ${api.url}`);
    return 0;
  }
  if (options.dryRun === true) {
    output.result(`would remove ${names.length} proxies from ${api.url}:\n  ${names.join('\n  ')}`);
    return 0;
  }
  for (const name of names) await api.removeProxy(name);
  output.result(`removed ${names.length} proxies from ${api.url}:\n  ${names.join('\n  ')}`);
  return 0;
}
