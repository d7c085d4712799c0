import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import { send } from '../../support/http.js';

const BIN = join(PACKAGE_ROOT, 'dist', 'cli', 'bin.js');

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): {
  child: ChildProcessWithoutNullStreams;
  output: () => { stdout: string; stderr: string };
  finished: Promise<Finished>;
} {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DATABASE_URL: '', TOXIPROXY_URL: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = new Promise<Finished>((resolve) => {
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), finished };
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('idemproof demo', () => {
  it('starts PostgreSQL, the target and a proxy, serves payments through Toxiproxy, and on SIGINT removes it all', async () => {
    const toxiproxyUrl = inject('toxiproxyUrl');
    const cli = startCli(['demo', '--serve', '--toxiproxy', toxiproxyUrl]);
    try {
      await waitFor(() => cli.output().stdout.includes('Press Ctrl-C'), 30_000);
    } catch (error) {
      cli.child.kill('SIGKILL');
      throw new Error(`demo did not become ready: ${JSON.stringify(cli.output())}`, {
        cause: error,
      });
    }
    const { stdout } = cli.output();
    const proxyUrl = /through proxy\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
    const proxyName = /proxy (idemproof_demo_\w+)/.exec(stdout)?.[1];
    const databaseUrl = /PostgreSQL\s+(postgres:\/\/\S+)/.exec(stdout)?.[1];
    expect(proxyUrl).toBeDefined();
    expect(proxyName).toBeDefined();
    expect(databaseUrl).toBeDefined();
    expect(stdout).toContain('flaw: none (correct behaviour)');

    const api = new ToxiproxyApi(toxiproxyUrl);
    expect((await api.listProxies()).map((proxy) => proxy.name)).toContain(proxyName);

    const payment = { amount: 1000, currency: 'EUR', customer: 'cus_1' };
    const first = await send(`${proxyUrl}/payments`, {
      headers: { 'idempotency-key': 'cli-demo-1' },
      json: payment,
    });
    const second = await send(`${proxyUrl}/payments`, {
      headers: { 'idempotency-key': 'cli-demo-1' },
      json: payment,
    });
    expect(first.status).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');

    cli.child.kill('SIGINT');
    const finished = await cli.finished;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toContain('stopped');
    expect((await api.listProxies()).map((proxy) => proxy.name)).not.toContain(proxyName);
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    await expect(client.connect()).rejects.toThrow();
  });

  it('stops by itself after --stop-after', async () => {
    const cli = startCli([
      'demo',
      '--serve',
      '--toxiproxy',
      inject('toxiproxyUrl'),
      '--stop-after',
      '1s',
    ]);
    const finished = await cli.finished;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toContain('Stopping in 1 s');
  });

  it('runs the built-in suite and exits 1 with the violated checks when the target has a flaw', async () => {
    const reportDir = await mkdtemp(join(tmpdir(), 'idemproof-demo-'));
    try {
      const finished = await startCli([
        'demo',
        '--flaw',
        'no-payload-check',
        '--report-dir',
        reportDir,
      ]).finished;
      expect(finished.code, finished.stderr).toBe(1);
      expect(finished.stdout).toContain('FAIL');
      expect(finished.stdout).toContain('conflictOnMismatch');
      expect(finished.stdout).toMatch(/replay: idemproof demo --flaw no-payload-check --seed \d+/);
      const [runFolder] = await readdir(reportDir);
      expect((await readdir(join(reportDir, runFolder ?? ''))).sort()).toEqual([
        'history.jsonl',
        'index.html',
        'junit.xml',
        'results.json',
        'run.json',
      ]);
    } finally {
      await rm(reportDir, { recursive: true, force: true });
    }
  });

  it('exits 2 on an unknown flaw, naming the known ones', async () => {
    const finished = await startCli(['demo', '--flaw', 'teleport']).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain("unknown flaw 'teleport'");
    expect(finished.stderr).toContain('release-on-disconnect');
  });

  it('exits 2 on an unknown option', async () => {
    const finished = await startCli(['demo', '--no-such-option']).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain("unknown option '--no-such-option'");
  });

  it('exits 3 when the Toxiproxy it was given does not answer, after stopping what it started', async () => {
    const finished = await startCli(['demo', '--toxiproxy', 'http://127.0.0.1:1']).finished;
    expect(finished.code).toBe(3);
    expect(finished.stderr).toContain('--toxiproxy=http://127.0.0.1:1 does not answer');
    expect(finished.stderr).toContain('IDEMPROOF_ERR_TOXIPROXY_UNAVAILABLE');
  });

  it('documents its exit codes and flaws in --help', async () => {
    const top = await startCli(['--help']).finished;
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(
      /Exit codes:[\s\S]*0 {2}every check holds[\s\S]*1 {2}at least one idempotency violation[\s\S]*2 {2}usage[\s\S]*3 {2}infrastructure/,
    );
    expect(top.stdout).toMatch(/\n {2}6 {2}report: the run did not finish/);
    const demo = await startCli(['demo', '--help']).finished;
    expect(demo.stdout).toContain('check-then-insert');
  });

  it('inside GitHub Actions appends a step summary, by the same rule as run', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'idemproof-demo-summary-'));
    const summary = join(folder, 'step-summary.md');
    try {
      await writeFile(summary, '# an earlier step\n');
      const finished = await startCli(
        ['demo', '--toxiproxy', inject('toxiproxyUrl'), '--report-dir', join(folder, 'reports')],
        { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
      ).finished;
      expect(finished.code, finished.stderr).toBe(0);
      const text = await readFile(summary, 'utf8');
      expect(text.startsWith('# an earlier step\n')).toBe(true);
      expect(text).toContain('idemproof: PASS');
      expect(text).toContain('idemproof demo --seed');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
