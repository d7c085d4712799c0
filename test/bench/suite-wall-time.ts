/**
 * Benchmark: the built-in suite against the demo target, wall time per scenario and in all.
 * Writes reports/bench/<timestamp>.json and a Markdown table beside it. Not a test: figures
 * are recorded, never asserted. `--runs N` (default 3) repeats the suite; `--tiny` runs once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_KEY_TTL_MS, DEMO_PROCESSING_MS, DEMO_SUITE } from '../../src/cli/demo-command.js';
import { startDemoStack } from '../../src/demo/stack.js';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';
import { runSuite } from '../../src/run/run.js';

const args = process.argv.slice(2);
const runs = args.includes('--tiny') ? 1 : Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;

const stack = await startDemoStack({ keyTtlMs: DEMO_KEY_TTL_MS, processingMs: DEMO_PROCESSING_MS });
const reportDir = await mkdtemp(join(tmpdir(), 'idemproof-bench-'));
const samples: {
  run: number;
  totalMs: number;
  scenarios: Record<string, number>;
  attempts: number;
  valid: string;
}[] = [];
try {
  for (let run = 1; run <= runs; run += 1) {
    const started = performance.now();
    const { result } = await runSuite({
      paths: [DEMO_SUITE],
      target: stack.target.url,
      toxiproxyUrl: stack.toxiproxy.url,
      reportDir,
      reporters: ['json'],
      out: () => undefined,
      err: (line) => process.stderr.write(`${line}\n`),
      interactive: false,
    });
    samples.push({
      run,
      totalMs: Math.round(performance.now() - started),
      scenarios: Object.fromEntries(
        result.scenarios.map((scenario) => [scenario.name, scenario.durationMs]),
      ),
      attempts: result.scenarios.reduce((sum, scenario) => sum + scenario.attempts.total, 0),
      valid: String(result.valid),
    });
    process.stderr.write(`suite run ${run}/${runs}: ${samples.at(-1)?.totalMs} ms\n`);
  }
} finally {
  await stack.stop();
  await rm(reportDir, { recursive: true, force: true });
}

const totals = samples.map((sample) => sample.totalMs).sort((a, b) => a - b);
const median = totals[Math.floor(totals.length / 2)] ?? 0;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(PACKAGE_ROOT, 'reports', 'bench');
await mkdir(outDir, { recursive: true });
const summary = {
  benchmark: 'built-in suite wall time against the demo target',
  target: 'under 30 s on a 2-core machine',
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  runs,
  medianMs: median,
  samples,
};
await writeFile(join(outDir, `${stamp}.json`), `${JSON.stringify(summary, null, 2)}\n`);
const table = [
  '| run | total (ms) | attempts | verdict | ' +
    Object.keys(samples[0]?.scenarios ?? {}).join(' | ') +
    ' |',
  '|---|---|---|---|' +
    Object.keys(samples[0]?.scenarios ?? {})
      .map(() => '---')
      .join('|') +
    '|',
  ...samples.map(
    (sample) =>
      `| ${sample.run} | ${sample.totalMs} | ${sample.attempts} | ${sample.valid} | ${Object.values(sample.scenarios).join(' | ')} |`,
  ),
  '',
  `Median: ${median} ms over ${runs} run(s); target under 30 000 ms.`,
].join('\n');
await writeFile(join(outDir, `${stamp}.md`), `${table}\n`);
process.stdout.write(`${table}\nwritten: reports/bench/${stamp}.json\n`);
