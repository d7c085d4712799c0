import { IdemproofError } from '../errors.js';
import { TOXIPROXY_INSTALL_COMMAND, findInstalledToxiproxy } from './toxiproxy-install.js';
import { findOnPath } from './tools-dir.js';

/**
 * "Where is Toxiproxy?" answered in one place, in this order:
 * 1. an existing server named by `--toxiproxy` or `TOXIPROXY_URL` (staging, docker compose);
 * 2. a `toxiproxy-server` binary: the one `idemproof setup` installed, else one on PATH,
 *    started on a free loopback port and stopped when idemproof ends;
 * 3. a `ghcr.io/shopify/toxiproxy` container through testcontainers, when a Docker engine answers;
 * 4. otherwise an error that names these three ways and the install command.
 *
 * This file only decides; `toxiproxy-start.ts` acts on the decision.
 */

export const TOXIPROXY_IMAGE = 'ghcr.io/shopify/toxiproxy:2.12.0';

export type ToxiproxyChoice =
  | { readonly way: 'url'; readonly url: string; readonly origin: 'option' | 'TOXIPROXY_URL' }
  | { readonly way: 'binary'; readonly path: string; readonly origin: 'installed' | 'PATH' }
  | { readonly way: 'container'; readonly image: string };

/** What the choice depends on. Probes are only called when the earlier ways are absent. */
export interface ToxiproxyFacts {
  readonly optionUrl?: string | undefined;
  readonly envUrl?: string | undefined;
  installedBinary(): Promise<string | undefined>;
  binaryOnPath(): Promise<string | undefined>;
  /** true when a Docker engine answers, otherwise the reason it does not. */
  dockerEngine(): Promise<true | string>;
}

export async function chooseToxiproxy(facts: ToxiproxyFacts): Promise<ToxiproxyChoice> {
  const optionUrl = facts.optionUrl?.trim();
  if (optionUrl) return { way: 'url', url: normaliseUrl(optionUrl), origin: 'option' };
  const envUrl = facts.envUrl?.trim();
  if (envUrl) return { way: 'url', url: normaliseUrl(envUrl), origin: 'TOXIPROXY_URL' };

  const installed = await facts.installedBinary();
  if (installed !== undefined) return { way: 'binary', path: installed, origin: 'installed' };
  const onPath = await facts.binaryOnPath();
  if (onPath !== undefined) return { way: 'binary', path: onPath, origin: 'PATH' };

  const docker = await facts.dockerEngine();
  if (docker === true) return { way: 'container', image: TOXIPROXY_IMAGE };

  throw new IdemproofError(
    'IDEMPROOF_ERR_TOXIPROXY_UNAVAILABLE',
    toxiproxyUnavailableMessage(docker),
  );
}

/** The error text when no way to Toxiproxy exists: the three ways, and how to get one. */
export function toxiproxyUnavailableMessage(dockerReason: string): string {
  return [
    'Toxiproxy is not available. idemproof looks for it in three ways, in this order:',
    '  1. an existing server: pass --toxiproxy URL or set TOXIPROXY_URL (e.g. http://127.0.0.1:8474);',
    "  2. a toxiproxy-server binary: the one 'idemproof setup' installs into the project's tools folder,",
    `     or one on PATH; to install it: 'idemproof setup' (runs ${TOXIPROXY_INSTALL_COMMAND});`,
    `  3. a Docker engine, where testcontainers starts ${TOXIPROXY_IMAGE}: ${dockerReason}.`,
  ].join('\n');
}

/** The facts of this machine and environment. */
export function machineToxiproxyFacts(
  options: { optionUrl?: string | undefined; env?: NodeJS.ProcessEnv } = {},
): ToxiproxyFacts {
  const env = options.env ?? process.env;
  return {
    optionUrl: options.optionUrl,
    envUrl: env.TOXIPROXY_URL,
    installedBinary: () => findInstalledToxiproxy(env),
    binaryOnPath: () => findOnPath('toxiproxy-server', env),
    dockerEngine: () => probeDockerEngine(),
  };
}

const DOCKER_PROBE_TIMEOUT_MS = 5000;

/** Asks testcontainers whether a container runtime answers, within a few seconds. */
export async function probeDockerEngine(
  timeoutMs = DOCKER_PROBE_TIMEOUT_MS,
): Promise<true | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`no Docker engine answered within ${timeoutMs} ms`),
      timeoutMs,
    );
  });
  const probe = (async (): Promise<true | string> => {
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      await getContainerRuntimeClient();
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return /container runtime strategy/i.test(message)
        ? 'no Docker engine answered'
        : `Docker engine unusable (${message})`;
    }
  })();
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function normaliseUrl(url: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `the Toxiproxy URL '${url}' is not a URL (expected e.g. http://127.0.0.1:8474)`,
    );
  }
  return parsed.origin;
}
