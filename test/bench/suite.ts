/**
 * Benchmark: the built-in suite's wall time against the demo target (target: under 30 s on a
 * 2-core machine). Runs it 3 times (tiny: once) on one demo stack.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_KEY_TTL_MS, DEMO_PROCESSING_MS, DEMO_SUITE } from '../../src/cli/demo-command.js';
import { startDemoStack } from '../../src/demo/stack.js';
import { runSuite } from '../../src/run/run.js';
import { describeSamples, markdownTable, type Benchmark } from './section.js';

export const suite: Benchmark = async ({ tiny, log }) => {
  const runs = tiny ? 1 : 3;
  const stack = await startDemoStack({
    keyTtlMs: DEMO_KEY_TTL_MS,
    processingMs: DEMO_PROCESSING_MS,
  });
  const reportDir = await mkdtemp(join(tmpdir(), 'idemproof-bench-suite-'));
  // As `idemproof demo` does: the suite names the demo's store proxy with ${IDEMPROOF_DEMO_STORE_…}.
  if (stack.store !== undefined) {
    process.env.IDEMPROOF_DEMO_STORE_LISTEN = stack.store.listen;
    process.env.IDEMPROOF_DEMO_STORE_UPSTREAM = stack.store.upstream;
  }
  const samples: {
    run: number;
    totalMs: number;
    attempts: number;
    valid: string;
    scenarios: Record<string, number>;
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
        err: log,
        interactive: false,
      });
      samples.push({
        run,
        totalMs: Math.round(performance.now() - started),
        attempts: result.scenarios.reduce((sum, scenario) => sum + scenario.attempts.total, 0),
        valid: String(result.valid),
        scenarios: Object.fromEntries(
          result.scenarios.map((scenario) => [scenario.name, scenario.durationMs]),
        ),
      });
      log(`suite: run ${run}/${runs}: ${samples.at(-1)?.totalMs} ms`);
    }
  } finally {
    await stack.stop();
    await rm(reportDir, { recursive: true, force: true });
  }
  const median = describeSamples(samples.map((sample) => sample.totalMs)).median;
  return {
    name: 'suite',
    target: 'the built-in suite against the demo target in under 30 s on a 2-core machine',
    met: tiny ? null : median < 30_000,
    figures: { runs, medianMs: median, samples },
    limits:
      'Wall time of runSuite on scenarios/demo, json reporter only, demo target with 20 ms simulated provider time, all on one 2-core machine.',
    table: markdownTable(
      ['run', 'total (ms)', 'attempts', 'verdict'],
      samples.map((sample) => [sample.run, sample.totalMs, sample.attempts, sample.valid]),
    ),
  };
};
