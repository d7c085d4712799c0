import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ToxiproxyApi } from '../../src/nemesis/toxiproxy-api.js';
import { findFreePort } from '../../src/provision/free-port.js';
import { identify, pidExists } from '../../src/provision/process-identity.js';
import type { RegistryEntry, TrackedResource } from '../../src/provision/run-registry.js';
import { runCli } from '../support/cli.js';

/**
 * Safety guarantee: `idemproof clean` acts only on what a dead idemproof process recorded, and
 * only in the shape idemproof records it. A reused pid, a folder that is not idemproof's, a
 * proxy prefix wider than one run, a garbled file or a process still running are left alone.
 */

let root: string;
let state: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idemproof-clean-test-'));
  state = join(root, 'state');
  await mkdir(state, { mode: 0o700 });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An entry whose owner is dead: pid 2^22 − 1 is above Linux's default pid_max. */
function deadEntry(resources: TrackedResource[]): RegistryEntry {
  return {
    version: 1,
    owner: {
      pid: 4_194_303,
      startTime: '1',
      command: 'idemproof run planted',
      startedAt: new Date().toISOString(),
    },
    reaper: null,
    resources,
  };
}

async function plant(name: string, entry: unknown): Promise<void> {
  await writeFile(join(state, name), typeof entry === 'string' ? entry : JSON.stringify(entry));
}

describe('idemproof clean, given a hostile registry', () => {
  it('kills no reused pid, removes no foreign folder, touches no other run, keeps going', async () => {
    // A process that happens to hold a pid the dead run recorded: same pid, later start time.
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = bystander.pid ?? 0;
    const foreign = join(root, 'precious');
    await mkdir(foreign);
    const symlinked = join(root, 'idemproof-link');
    await symlink(foreign, symlinked);
    const ours = join(root, 'idemproof-pg-planted');
    await mkdir(ours);
    const toxiproxyUrl = inject('toxiproxyUrl');
    const api = new ToxiproxyApi(toxiproxyUrl);
    const otherRun = `idemproof_bystander${process.pid}_clean`;
    await api.createProxy({ name: otherRun, upstream: '127.0.0.1:9' });
    try {
      await plant(
        '1-1-0.json',
        deadEntry([
          {
            kind: 'process',
            name: 'postgres',
            pid,
            startTime: '1',
            command: 'sleep',
            stopSignal: 'SIGKILL',
          },
          {
            kind: 'process',
            name: 'sleep',
            pid,
            startTime: identify(pid).startTime,
            command: 'postgres',
            stopSignal: 'SIGKILL',
          },
          { kind: 'folder', path: foreign },
          { kind: 'folder', path: `${ours}/../precious` },
          { kind: 'folder', path: symlinked },
          { kind: 'folder', path: ours },
          { kind: 'proxies', toxiproxy: toxiproxyUrl, prefix: 'idemproof' },
          { kind: 'proxies', toxiproxy: toxiproxyUrl, prefix: 'idemproof_' },
        ]),
      );
      await plant('2-2-0.json', '{"version": 1, "owner": ');
      await plant('3-3-0.json', { version: 1, owner: { pid: -1 }, resources: [] });
      // An entry of a process that still runs (this test): never acted on.
      await plant('4-4-0.json', {
        ...deadEntry([{ kind: 'folder', path: ours }]),
        owner: { ...identify(process.pid), command: 'idemproof demo', startedAt: '' },
      });
      await writeFile(join(state, 'notes.txt'), 'not an entry');

      const cleaned = await runCli(['clean'], { IDEMPROOF_STATE_DIR: state });
      // Refusals are failures: exit 3, and the dead entry stays for a human to look at.
      expect(cleaned.code, cleaned.stderr).toBe(3);
      expect(pidExists(pid)).toBe(true);
      expect(existsSync(foreign)).toBe(true);
      expect(cleaned.stdout).toContain(`already gone: postgres (pid ${pid}`);
      expect(cleaned.stdout).toContain(`already gone: sleep (pid ${pid}`);
      expect(cleaned.stdout).toMatch(/refused to remove ".*precious": not an idemproof-\* folder/);
      expect(cleaned.stdout).toContain(`refused to remove ${symlinked}: not a folder`);
      expect(cleaned.stdout).toContain(`removed folder ${ours}`);
      expect(cleaned.stdout).toContain('refused proxy prefix "idemproof_"');
      expect(cleaned.stdout).toContain('refused proxy prefix "idemproof"');
      expect(cleaned.stdout).toMatch(/skipped .*2-2-0\.json: not a registry entry/);
      expect(cleaned.stdout).toMatch(/skipped .*3-3-0\.json: not a registry entry/);
      expect(cleaned.stdout).toContain(
        `left alone: pid ${process.pid} (idemproof demo) is still running`,
      );
      expect((await api.listProxies()).map((proxy) => proxy.name)).toContain(otherRun);
      expect((await readdir(state)).sort()).toEqual([
        '1-1-0.json',
        '2-2-0.json',
        '3-3-0.json',
        '4-4-0.json',
        'notes.txt',
      ]);
    } finally {
      bystander.kill('SIGKILL');
      await api.removeProxy(otherRun);
    }
  });

  it('counts the proxies of a Toxiproxy that refuses connections as gone, and keeps an entry whose server fails', async () => {
    // Accepts and never answers: neither gone nor cleanable.
    const silent = await new Promise<Server>((resolve) => {
      const server = createServer(() => undefined).listen(0, '127.0.0.1', () => resolve(server));
    });
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const nobody = await findFreePort();
    try {
      await plant(
        '1-1-0.json',
        deadEntry([
          { kind: 'proxies', toxiproxy: `http://127.0.0.1:${nobody}`, prefix: 'idemproof_ab12_s0' },
        ]),
      );
      const gone = await runCli(['clean'], { IDEMPROOF_STATE_DIR: state });
      expect(gone.code, gone.stdout + gone.stderr).toBe(0);
      expect(gone.stdout).toContain('gone with its server: proxies idemproof_ab12_s0_*');
      expect(await readdir(state)).toEqual([]);
      await plant(
        '2-2-0.json',
        deadEntry([
          { kind: 'proxies', toxiproxy: `http://127.0.0.1:${port}`, prefix: 'idemproof_ab12_s0' },
        ]),
      );
      const stuck = await runCli(['clean'], { IDEMPROOF_STATE_DIR: state });
      expect(stuck.code).toBe(3);
      expect(await readdir(state)).toEqual(['2-2-0.json']);
    } finally {
      silent.close();
    }
  });

  it('refuses a state folder another user could write to', async () => {
    await chmod(state, 0o777);
    const toxiproxyUrl = inject('toxiproxyUrl');
    // A demo that starts something records it; with the folder refused it says so and runs on.
    const finished = await runCli(
      ['demo', '--serve', '--stop-after', '1s', '--toxiproxy', toxiproxyUrl],
      { IDEMPROOF_STATE_DIR: state, DATABASE_URL: '', TOXIPROXY_URL: '' },
    );
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toContain('is writable by others');
    expect(await readdir(state)).toEqual([]);
  });
});
