import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import {
  TOXIPROXY_INSTALL_COMMAND,
  TOXIPROXY_VERSION,
  findInstalledToxiproxy,
  installToxiproxy,
  installedToxiproxyPath,
} from '../../../src/provision/toxiproxy-install.js';

describe('Toxiproxy install step', () => {
  let tools: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    tools = await mkdtemp(join(tmpdir(), 'idemproof-tools-'));
    env = { IDEMPROOF_TOOLS_DIR: tools, PATH: '' };
  });
  afterEach(async () => {
    await rm(tools, { recursive: true, force: true });
  });

  async function placeBinary(version: string): Promise<string> {
    const path = installedToxiproxyPath(env);
    await mkdir(join(tools, 'bin'), { recursive: true });
    await writeFile(path, '#!/bin/sh\n');
    await chmod(path, 0o755);
    await writeFile(`${path}.version`, `${version}\n`);
    return path;
  }

  it('installs into <tools>/bin/toxiproxy-server', () => {
    expect(installedToxiproxyPath(env)).toBe(join(tools, 'bin', 'toxiproxy-server'));
  });

  it('finds nothing in an empty tools folder', async () => {
    expect(await findInstalledToxiproxy(env)).toBeUndefined();
  });

  it('ignores a binary built from another version', async () => {
    await placeBinary('v2.9.0');
    expect(await findInstalledToxiproxy(env)).toBeUndefined();
  });

  it('skips the build when the pinned version is present', async () => {
    const path = await placeBinary(TOXIPROXY_VERSION);
    expect(await installToxiproxy({ env })).toEqual({ path, installed: false, seconds: 0 });
  });

  it('without Go, fails with the install command and the other ways', async () => {
    const error = await installToxiproxy({ env }).catch((caught: unknown) => caught);
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_TOXIPROXY_INSTALL');
    const message = (error as Error).message;
    expect(message).toContain("no 'go' on PATH");
    expect(message).toContain(TOXIPROXY_INSTALL_COMMAND);
    expect(message).toContain('TOXIPROXY_URL');
  });
});
