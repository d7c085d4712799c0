import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IdemproofError, describeError } from '../errors.js';
import { findOnPath, isExecutable, toolsDir } from './tools-dir.js';

const run = promisify(execFile);

export const TOXIPROXY_VERSION = 'v2.12.0';
export const TOXIPROXY_GO_PACKAGE = 'github.com/Shopify/toxiproxy/v2/cmd/server';
export const TOXIPROXY_INSTALL_COMMAND = `go install ${TOXIPROXY_GO_PACKAGE}@${TOXIPROXY_VERSION}`;

/** Where `installToxiproxy` puts the server: `<tools>/bin/toxiproxy-server`. */
export function installedToxiproxyPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(toolsDir(env), 'bin', 'toxiproxy-server');
}

/** The installed binary, if present and built from the pinned version. */
export async function findInstalledToxiproxy(
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const path = installedToxiproxyPath(env);
  if (!(await isExecutable(path))) return undefined;
  const version = await readFile(`${path}.version`, 'utf8').catch(() => '');
  return version.trim() === TOXIPROXY_VERSION ? path : undefined;
}

export interface InstallResult {
  readonly path: string;
  readonly installed: boolean;
  readonly seconds: number;
}

/**
 * Builds the real Toxiproxy server with `go install` into the project-local tools folder and
 * names it `toxiproxy-server`. Skipped when the pinned version is already there.
 *
 * Must not: touch anything outside the tools folder (Go's own module cache aside).
 */
export async function installToxiproxy(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<InstallResult> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const existing = await findInstalledToxiproxy(env);
  if (existing !== undefined) {
    log(`Toxiproxy ${TOXIPROXY_VERSION} already installed at ${existing}`);
    return { path: existing, installed: false, seconds: 0 };
  }

  const go = await findOnPath('go', env);
  if (go === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_TOXIPROXY_INSTALL',
      `cannot install Toxiproxy: no 'go' on PATH. Install Go (https://go.dev/dl/) and run ` +
        `'idemproof setup' again, or run '${TOXIPROXY_INSTALL_COMMAND}' and put the resulting ` +
        `'server' binary on PATH as 'toxiproxy-server', or point TOXIPROXY_URL at a running server.`,
    );
  }

  const target = installedToxiproxyPath(env);
  const buildDir = join(toolsDir(env), `go-build-${process.pid}`);
  await mkdir(buildDir, { recursive: true });
  log(`installing Toxiproxy ${TOXIPROXY_VERSION}: ${TOXIPROXY_INSTALL_COMMAND}`);
  try {
    await run(go, ['install', `${TOXIPROXY_GO_PACKAGE}@${TOXIPROXY_VERSION}`], {
      env: { ...env, GOBIN: buildDir },
      timeout: 10 * 60 * 1000,
      maxBuffer: 16 * 1024 * 1024,
    });
    await mkdir(join(toolsDir(env), 'bin'), { recursive: true });
    await rename(join(buildDir, 'server'), target);
    await writeFile(`${target}.version`, `${TOXIPROXY_VERSION}\n`);
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new IdemproofError(
      'IDEMPROOF_ERR_TOXIPROXY_INSTALL',
      `'${TOXIPROXY_INSTALL_COMMAND}' failed: ${describeError(error)}` +
        (typeof stderr === 'string' && stderr !== '' ? `\n${stderr.trim()}` : ''),
      { cause: error },
    );
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  log(`installed ${target} in ${seconds.toFixed(1)} s`);
  return { path: target, installed: true, seconds };
}
