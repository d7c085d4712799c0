import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { DEMO_KEY_TTL_MS, DEMO_PROCESSING_MS, DEMO_SUITE } from '../../src/cli/demo-command.js';
import type { Flaw } from '../../src/demo/flaws.js';
import { runSuite, type RunOutcome } from '../../src/run/run.js';
import { startDemo } from './demo-target.js';

export interface SuiteRun extends RunOutcome {
  readonly output: string;
  /** "scenario › checker" for every check that failed. */
  readonly failed: string[];
}

/**
 * Runs the built-in suite against a fresh demo target (with the settings `idemproof demo`
 * uses) through the shared real Toxiproxy, with reports written to a temporary folder.
 */
export async function runBuiltInSuite(
  flaw: Flaw,
  paths: string[] = [DEMO_SUITE],
): Promise<SuiteRun> {
  const demo = await startDemo({
    flaw,
    keyTtlMs: DEMO_KEY_TTL_MS,
    processingMs: DEMO_PROCESSING_MS,
    throughStoreProxy: true,
  });
  const reportDir = await mkdtemp(join(tmpdir(), 'idemproof-reports-'));
  let output = '';
  // As `idemproof demo` does: scenarios name the store proxy with ${IDEMPROOF_DEMO_STORE_…}.
  const savedEnv = { ...process.env };
  if (demo.store !== undefined) {
    process.env.IDEMPROOF_DEMO_STORE_LISTEN = demo.store.listen;
    process.env.IDEMPROOF_DEMO_STORE_UPSTREAM = demo.store.upstream;
  }
  try {
    const outcome = await runSuite({
      paths,
      target: demo.target.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir,
      seed: 20261124,
      out: (text) => (output += `${text}\n`),
      err: (text) => (output += `${text}\n`),
      interactive: false,
    });
    const failed = outcome.result.scenarios.flatMap((scenario) =>
      scenario.checks
        .filter((check) => check.valid === false)
        .map((check) => `${scenario.name} › ${check.checker}`),
    );
    return { ...outcome, output, failed };
  } finally {
    process.env = savedEnv;
    await demo.stop();
    await rm(reportDir, { recursive: true, force: true });
  }
}
