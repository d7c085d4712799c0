import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_SUITE } from '../../../src/cli/demo-command.js';
import { mergeReports } from '../../../src/run/rebuild.js';
import type { RunResult } from '../../../src/run/result.js';
import { runSuite, type RunOutcome } from '../../../src/run/run.js';
import { readHistory } from '../../../src/run/run-file.js';
import { runCli } from '../../support/cli.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

const SCENARIO = join(DEMO_SUITE, 'payments.yaml');
const quiet = { out: () => undefined, err: () => undefined, interactive: false } as const;

describe('--shard and report merge', () => {
  let demo: RunningDemo;
  let folder: string;
  const shards: RunOutcome[] = [];
  beforeAll(async () => {
    demo = await startDemo({ processingMs: 20 });
    folder = await mkdtemp(join(tmpdir(), 'idemproof-shards-'));
    for (const index of [1, 2]) {
      shards.push(
        await runSuite({
          ...quiet,
          paths: [SCENARIO],
          target: demo.target.url,
          toxiproxyUrl: inject('toxiproxyUrl'),
          seed: 11,
          shard: { index, total: 2 },
          reportDir: join(folder, `shard-${index}`),
          reporters: ['json'],
        }),
      );
    }
  }, 120_000);
  afterAll(async () => {
    await demo.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('splits the patterns between the shards, each run valid on its own', () => {
    const [one, two] = shards.map((shard) => shard.result.scenarios[0]);
    const ids = (scenario: typeof one): string[] =>
      scenario?.patterns.map((pattern) => pattern.id) ?? [];
    expect(ids(one).length).toBeGreaterThan(0);
    expect(ids(two).length).toBeGreaterThan(0);
    expect(ids(one).filter((id) => ids(two).includes(id))).toEqual([]);
    for (const shard of shards) expect(shard.result.valid).toBe(true);
    expect(shards[0]?.result.replayCommand).toContain('--shard 1/2');
  });

  it('merges the shard folders into one report of the whole plan', async () => {
    const out = join(folder, 'merged');
    const merged = await mergeReports({
      ...quiet,
      runDirs: shards.map((shard) => shard.result.reportDir).reverse(),
      outDir: out,
      reporters: ['json', 'html', 'junit'],
    });
    const attempts = shards.reduce(
      (sum, shard) => sum + (shard.result.scenarios[0]?.attempts.total ?? 0),
      0,
    );
    const scenario = merged.result.scenarios[0];
    expect(scenario?.attempts.total).toBe(attempts);
    expect(scenario?.patterns.length).toBe(
      shards.reduce((sum, shard) => sum + (shard.result.scenarios[0]?.patterns.length ?? 0), 0),
    );
    expect(merged.result.valid).toBe(true);
    expect(merged.result.stopped).toBeNull();
    const history = await readHistory(out, () => undefined);
    expect(history.map((event) => event.index)).toEqual(history.map((_event, index) => index));
    const written = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunResult;
    expect(written.scenarios[0]?.attempts.total).toBe(attempts);
    expect(await readFile(join(out, 'junit.xml'), 'utf8')).toContain('<testsuites');
    expect(await readFile(join(out, 'index.html'), 'utf8')).toContain('PASS');
  });

  it('refuses a merge with a shard missing or given twice', async () => {
    const one = shards[0]?.result.reportDir ?? '';
    await expect(
      mergeReports({ ...quiet, runDirs: [one], outDir: join(folder, 'x') }),
    ).rejects.toThrow(/shard 2\/2 missing/);
    await expect(
      mergeReports({ ...quiet, runDirs: [one, one], outDir: join(folder, 'y') }),
    ).rejects.toThrow(/are both shard 1\/2/);
  });

  it('merges from the command line too, exiting with the merged verdict', async () => {
    const out = join(folder, 'merged-cli');
    const merged = await runCli([
      'report',
      'merge',
      ...shards.map((shard) => shard.result.reportDir),
      '--out',
      out,
      '--reporter',
      'json',
    ]);
    expect(merged.code, merged.stderr).toBe(0);
    const written = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunResult;
    expect(written.valid).toBe(true);
    const missing = await runCli(['report', 'merge', shards[0]?.result.reportDir ?? '']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('shard 2/2 missing');
  });
});
