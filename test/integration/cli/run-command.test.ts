import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, runCli, type CliResult } from '../../support/cli.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { TOXIPROXY_URL: inject('toxiproxyUrl') });
}

const SCENARIO = (extra = ''): string => `name: cli payments
target: { baseUrl: http://127.0.0.1:1, path: /payments }
payload: { template: { amount: 100, currency: EUR, customer: 'cus_{{marker}}' } }
effects: { http: { url: '/payments?idempotency_key={{key}}', count: $.count } }
patterns:
  - kind: sequential-duplicates
    lanes: [clean, lost-response]
  - kind: payload-mismatch
    concurrent: 1
${extra}`;

describe('idemproof run', () => {
  let folder: string;
  let correct: RunningDemo;
  let flawed: RunningDemo;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-cli-run-'));
    await writeFile(join(folder, 'payments.yaml'), SCENARIO());
    await writeFile(join(folder, 'broken.yaml'), SCENARIO('  - kind: teleport\n'));
    correct = await startDemo();
    flawed = await startDemo({ flaw: 'no-payload-check' });
  });
  afterAll(async () => {
    await correct.stop();
    await flawed.stop();
    await rm(folder, { recursive: true, force: true });
  });

  /** `run payments.yaml` against the correct demo, reports into `reports`. */
  const runCorrect = (reports: string): string[] => [
    'run',
    join(folder, 'payments.yaml'),
    '--target',
    correct.target.url,
    '--report-dir',
    reports,
  ];

  it('exits 0 when every check holds, and writes all four reports', async () => {
    const reports = join(folder, 'reports-ok');
    const result = await cli([...runCorrect(reports), '--seed', '5']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('PASS');
    const [runId] = await readdir(reports);
    const files = (await readdir(join(reports, runId ?? ''))).sort();
    expect(files).toEqual(['history.jsonl', 'index.html', 'junit.xml', 'results.json', 'run.json']);
    const results = JSON.parse(
      await readFile(join(reports, runId ?? '', 'results.json'), 'utf8'),
    ) as { seed: number; replayCommand: string; valid: boolean };
    expect(results).toMatchObject({ seed: 5, valid: true });
    expect(results.replayCommand).toContain('--seed 5');
    const lines = (await readFile(join(reports, runId ?? '', 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ index: 0 });
  });

  it('runs to the end and writes its reports when the reader of its output goes away (| head)', async () => {
    const reports = join(folder, 'reports-pipe');
    const child = spawn(process.execPath, [BIN, ...runCorrect(reports)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    // The reader closes its end at once: every line the run prints meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).not.toContain('internal error');
    expect(code, stderr).toBe(0);
    const [runId] = await readdir(reports);
    expect((await readdir(join(reports, runId ?? ''))).sort()).toContain('results.json');
  });

  it('exits 1 on a violation, naming the check in the terminal summary', async () => {
    const result = await cli([
      'run',
      join(folder, 'payments.yaml'),
      '--target',
      flawed.target.url,
      '--report-dir',
      join(folder, 'reports-bad'),
      '--reporter',
      'terminal',
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('conflictOnMismatch');
  });

  it('exits 2 on a scenario-file error, naming file, line and what was expected, before any traffic', async () => {
    const result = await cli([
      'run',
      join(folder, 'broken.yaml'),
      '--target',
      correct.target.url,
      '--report-dir',
      join(folder, 'reports-broken'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.yaml:\d+:\d+ at patterns\[2\]\.kind: /);
    await expect(readdir(join(folder, 'reports-broken'))).rejects.toThrow();
  });

  it('exits 3 when the target does not answer', async () => {
    const result = await cli([
      'run',
      join(folder, 'payments.yaml'),
      '--target',
      'http://127.0.0.1:1',
      '--report-dir',
      join(folder, 'reports-down'),
      '--reporter',
      'json',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('target http://127.0.0.1:1 does not answer');
  });

  it('exits 2 on an unknown reporter or profile', async () => {
    expect((await cli(['run', join(folder, 'payments.yaml'), '--reporter', 'pdf'])).code).toBe(2);
    const profile = await cli([
      'run',
      join(folder, 'payments.yaml'),
      '--profile',
      'paypal',
      '--target',
      correct.target.url,
    ]);
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain("unknown profile 'paypal'");
  });
});
