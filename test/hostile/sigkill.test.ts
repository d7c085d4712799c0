import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ToxiproxyApi } from '../../src/nemesis/toxiproxy-api.js';
import { pidExists } from '../../src/provision/process-identity.js';
import { registryEntrySchema, type RegistryEntry } from '../../src/provision/run-registry.js';
import { BIN, runCli } from '../support/cli.js';

/**
 * Safety guarantee: a run killed with SIGKILL leaves nothing behind. Its reaper stops its
 * child servers (embedded PostgreSQL, Toxiproxy), deletes its temporary folder and its proxies
 * on a shared Toxiproxy within seconds; and if the reaper is killed too, `idemproof clean`
 * finds and removes all of it from the registry.
 */

const GONE_WITHIN_MS = 15_000;

let stateDir: string;
let started: ChildProcess[] = [];

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'idemproof-state-test-'));
  started = [];
});

afterEach(async () => {
  for (const child of started) child.kill('SIGKILL');
  // Whatever a failed assertion left, the sweep removes (it is what is under test, too).
  await runCli(['clean'], { IDEMPROOF_STATE_DIR: stateDir });
  await rm(stateDir, { recursive: true, force: true });
});

function startDemo(args: readonly string[]): { child: ChildProcess; stdout: () => string } {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], {
    env: { ...process.env, DATABASE_URL: '', TOXIPROXY_URL: '', IDEMPROOF_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.resume();
  return { child, stdout: () => stdout };
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function entries(): Promise<RegistryEntry[]> {
  const names = (await readdir(stateDir)).filter((name) => name.endsWith('.json'));
  const read = await Promise.all(
    names.map(async (name) => {
      try {
        return registryEntrySchema.parse(JSON.parse(await readFile(join(stateDir, name), 'utf8')));
      } catch {
        return undefined; // being replaced at this very moment
      }
    }),
  );
  return read.filter((entry) => entry !== undefined);
}

function processes(entry: RegistryEntry, name: string): number[] {
  return entry.resources.flatMap((resource) =>
    resource.kind === 'process' && resource.name === name ? [resource.pid] : [],
  );
}

function folders(entry: RegistryEntry): string[] {
  return entry.resources.flatMap((resource) => (resource.kind === 'folder' ? [resource.path] : []));
}

/** The distinct proxy prefixes: the demo's (its store and clean proxies), then each run's. */
function prefixes(entry: RegistryEntry): string[] {
  return [
    ...new Set(
      entry.resources.flatMap((resource) => (resource.kind === 'proxies' ? [resource.prefix] : [])),
    ),
  ];
}

async function proxiesNamed(
  toxiproxyUrl: string,
  prefixList: readonly string[],
): Promise<string[]> {
  return (await new ToxiproxyApi(toxiproxyUrl).listProxies())
    .map((proxy) => proxy.name)
    .filter((name) => prefixList.some((prefix) => name.startsWith(`${prefix}_`)));
}

/** Waits until the demo's entry lists PostgreSQL, its folder and at least `proxySets` prefixes. */
async function readyEntry(proxySets: number): Promise<RegistryEntry> {
  return waitFor(
    'the registry lists PostgreSQL, its folder and the proxies',
    async () =>
      (await entries()).find(
        (entry) =>
          processes(entry, 'postgres').length === 1 &&
          folders(entry).length >= 1 &&
          prefixes(entry).length >= proxySets,
      ),
    60_000,
  );
}

describe('after SIGKILL', () => {
  it('the reaper stops PostgreSQL, deletes its folder and removes the proxies on a shared Toxiproxy', async () => {
    const toxiproxyUrl = inject('toxiproxyUrl');
    const reportDir = await mkdtemp(join(tmpdir(), 'idemproof-killed-'));
    try {
      // Killed mid-suite: the demo proxy and a scenario's fault lanes are in place.
      const demo = startDemo(['--toxiproxy', toxiproxyUrl, '--report-dir', reportDir]);
      const entry = await readyEntry(2);
      const [postgres] = processes(entry, 'postgres');
      const names = await proxiesNamed(toxiproxyUrl, prefixes(entry));
      expect(names.length).toBeGreaterThan(1);
      expect(entry.reaper).not.toBeNull();

      demo.child.kill('SIGKILL');
      await waitFor(
        'PostgreSQL stopped, folder and proxies removed, reaper gone',
        async () =>
          !pidExists(postgres ?? 0) &&
          folders(entry).every((folder) => !existsSync(folder)) &&
          (await proxiesNamed(toxiproxyUrl, prefixes(entry))).length === 0 &&
          !pidExists(entry.reaper?.pid ?? 0) &&
          (await readdir(stateDir)).length === 0
            ? true
            : undefined,
        GONE_WITHIN_MS,
      );
    } finally {
      await rm(reportDir, { recursive: true, force: true });
    }
  });

  it('with the reaper killed too, `idemproof clean` stops PostgreSQL and Toxiproxy and removes the folder', async () => {
    const demo = startDemo(['--serve']);
    await waitFor(
      'ready',
      () => (demo.stdout().includes('Press Ctrl-C') ? true : undefined),
      60_000,
    );
    const entry = await readyEntry(1);
    const servers = [...processes(entry, 'postgres'), ...processes(entry, 'toxiproxy-server')];
    expect(servers).toHaveLength(2);
    process.kill(entry.reaper?.pid ?? 0, 'SIGKILL');
    demo.child.kill('SIGKILL');
    await waitFor(
      'the reaper is gone',
      () => (pidExists(entry.reaper?.pid ?? 0) ? undefined : true),
      5000,
    );

    const dry = await runCli(['clean', '--dry-run'], { IDEMPROOF_STATE_DIR: stateDir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`pid ${entry.owner.pid} (idemproof demo --serve`);
    for (const folder of folders(entry)) {
      expect(dry.stdout).toContain(`would remove folder ${folder}`);
      expect(existsSync(folder)).toBe(true);
    }

    const cleaned = await runCli(['clean'], { IDEMPROOF_STATE_DIR: stateDir });
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(cleaned.stdout).toMatch(/removed what 1 dead idemproof process\(es\) left/);
    for (const folder of folders(entry)) {
      expect(cleaned.stdout).toContain(`removed folder ${folder}`);
      expect(existsSync(folder)).toBe(false);
    }
    for (const pid of servers) expect(pidExists(pid), `pid ${pid}`).toBe(false);
    expect(await readdir(stateDir)).toEqual([]);

    const again = await runCli(['clean'], { IDEMPROOF_STATE_DIR: stateDir });
    expect(again.stdout).toContain('nothing to remove');
  });

  it('`idemproof report` of the killed run exits 6 (did not finish), not 4 (internal error)', async () => {
    const reportDir = await mkdtemp(join(tmpdir(), 'idemproof-killed-'));
    try {
      const demo = startDemo(['--toxiproxy', inject('toxiproxyUrl'), '--report-dir', reportDir]);
      await readyEntry(2);
      demo.child.kill('SIGKILL');
      const [runId] = await readdir(reportDir);
      const runDir = join(reportDir, runId ?? '');
      const report = await runCli(['report', runDir], { IDEMPROOF_STATE_DIR: stateDir });
      expect(report.code, report.stderr).toBe(6);
      expect(report.stdout).toContain('CRASHED');
      expect(await readdir(runDir)).toContain('results.json');
      // Rebuilding again (its results.json is now the rebuilt one) says the same.
      const again = await runCli(['report', runDir], { IDEMPROOF_STATE_DIR: stateDir });
      expect(again.code, again.stderr).toBe(6);
    } finally {
      await rm(reportDir, { recursive: true, force: true });
    }
  });
});
