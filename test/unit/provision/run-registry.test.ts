import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftBehind, registerCleanup, runCleanups } from '../../../src/provision/cleanup.js';
import {
  ensureStateDir,
  registryEntrySchema,
  registryFile,
  stateDir,
} from '../../../src/provision/run-registry.js';

let root: string;
const saved = { state: process.env.IDEMPROOF_STATE_DIR, reaper: process.env.IDEMPROOF_REAPER };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'idemproof-registry-test-'));
  process.env.IDEMPROOF_STATE_DIR = join(root, 'state');
  process.env.IDEMPROOF_REAPER = 'off';
});

afterAll(async () => {
  process.env.IDEMPROOF_STATE_DIR = saved.state;
  process.env.IDEMPROOF_REAPER = saved.reaper;
  await rm(root, { recursive: true, force: true });
});

describe('the registry of what a process started', () => {
  it('lists a resource while it is registered and forgets it when it is stopped', async () => {
    const unregister = registerCleanup({
      name: 'proxies',
      run: () => Promise.resolve(),
      resource: { kind: 'proxies', toxiproxy: 'http://127.0.0.1:1', prefix: 'idemproof_ab12' },
    });
    registerCleanup({
      name: 'folder',
      run: () => Promise.resolve(),
      resource: { kind: 'folder', path: join(root, 'idemproof-x') },
    });
    const entry = registryEntrySchema.parse(JSON.parse(await readFile(registryFile(), 'utf8')));
    expect(entry.owner.pid).toBe(process.pid);
    expect(entry.resources.map((resource) => resource.kind)).toEqual(['proxies', 'folder']);
    expect(leftBehind()).toMatch(/May be left behind: .*the reaper removes it/);
    unregister();
    await runCleanups();
    // Nothing left: the file is gone, so nothing is left for the reaper or `clean`.
    expect(await readdir(join(root, 'state'))).toEqual([]);
  });

  it('takes IDEMPROOF_STATE_DIR, else XDG_STATE_HOME', () => {
    expect(stateDir({ IDEMPROOF_STATE_DIR: '/x/y' })).toBe('/x/y');
    expect(stateDir({ XDG_STATE_HOME: '/s' })).toBe('/s/idemproof/processes');
    expect(stateDir({ XDG_STATE_HOME: 'relative' })).toMatch(
      /\.local\/state\/idemproof\/processes$/,
    );
  });

  it('refuses a state folder that is a symbolic link or writable by others', async () => {
    const real = join(root, 'real');
    await mkdir(real, { mode: 0o700 });
    const link = join(root, 'link');
    await symlink(real, link);
    expect(() => ensureStateDir(link)).toThrow(/not a folder/);
    const open = join(root, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    expect(() => ensureStateDir(open)).toThrow(/writable by others/);
  });
});
