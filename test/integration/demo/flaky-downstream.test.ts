import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flaw } from '../../../src/demo/flaws.js';
import type { DownstreamEvent } from '../../../src/history/events.js';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import { runBuiltInSuite, type SuiteRun } from '../../support/suite.js';

/**
 * scenarios/demo/flaky-downstream.yaml against the real demo target: the sink plays its payment
 * provider, answering each behaviour (ok, drop, timeout, 503, slow past the demo's provider
 * timeout) to the first call of a key and ok after. The correct demo makes one charge per key
 * under each; each downstream flaw is caught by the check that names it.
 */
const SCENARIO = join(PACKAGE_ROOT, 'scenarios', 'demo', 'flaky-downstream.yaml');
const ANSWERS_LINE = /answers: \[.*\]/;

let folder: string;
let original: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'idemproof-downstream-'));
  original = await readFile(SCENARIO, 'utf8');
  expect(original).toMatch(ANSWERS_LINE);
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** The shipped scenario with its downstream answers replaced (or as shipped). */
async function runWith(flaw: Flaw, answers?: string): Promise<SuiteRun> {
  if (answers === undefined) return runBuiltInSuite(flaw, [SCENARIO]);
  const file = join(folder, `${flaw}-${answers.replace(/\W+/g, '_')}.yaml`);
  await writeFile(file, original.replace(ANSWERS_LINE, `answers: ${answers}`));
  return runBuiltInSuite(flaw, [file]);
}

function problemsOf(run: SuiteRun): string[] {
  return run.result.scenarios.flatMap((scenario) => [
    ...(scenario.error === null ? [] : [`${scenario.name}: ${scenario.error.message}`]),
    ...scenario.checks
      .filter((check) => check.valid !== true)
      .map(
        (check) =>
          `${check.checker}: ${String(check.valid)} ${check.anomalies.map((a) => a.message).join(' | ')} ${check.notes.join(' ')}`,
      ),
  ]);
}

function downstreamCalls(run: SuiteRun): DownstreamEvent[] {
  return run.history.filter((event): event is DownstreamEvent => event.type === 'downstream');
}

/** Every anomaly message of one checker, one per line. */
function messagesOf(run: SuiteRun, checker: string): string {
  return run.result.scenarios
    .flatMap((scenario) => scenario.checks.filter((check) => check.checker === checker))
    .flatMap((check) => check.anomalies.map((anomaly) => anomaly.message))
    .join('\n');
}

function checked(run: SuiteRun, checker: string): number {
  const result = run.result.scenarios[0]?.checks.find((check) => check.checker === checker);
  return result?.checked ?? 0;
}

describe('a flaky downstream against the correct demo target', () => {
  it.each([
    ['ok', '[ok]'],
    ['drop', '[drop, ok]'],
    ['timeout', '[timeout, ok]'],
    ['503', '[{ status: 503 }, ok]'],
    ['slow', '[{ slowMs: 1200 }, ok]'],
  ])('holds every check when the provider answers %s first', async (answer, answers) => {
    const run = await runWith('none', answers);
    expect(problemsOf(run)).toEqual([]);
    const calls = downstreamCalls(run);
    expect(calls.length).toBeGreaterThan(0);
    // The behaviour really happened, and every call carried the forwarded key.
    expect(
      calls.filter((call) => call.call === 1).every((call) => call.answer.startsWith(answer)),
    ).toBe(true);
    expect(calls.every((call) => call.forwardedKey?.startsWith('pay-'))).toBe(true);
    if (answer !== 'ok') expect(calls.some((call) => call.call === 2)).toBe(true);
    expect(checked(run, 'downstreamEffectsPerKey')).toBeGreaterThan(0);
    expect(checked(run, 'forwardedKeyStable')).toBeGreaterThan(0);
  });

  it('holds every check under the shipped scenario (timeout, drop, then slow)', async () => {
    const run = await runWith('none');
    expect(problemsOf(run)).toEqual([]);
    const answers = new Set(downstreamCalls(run).map((call) => call.answer));
    expect([...answers].sort()).toEqual(['drop', 'slow 300 ms', 'timeout']);
  });
});

describe('downstream flaws of the demo target', () => {
  it('unforwarded-key under a dropped first call: both checks fail', async () => {
    const run = await runWith('unforwarded-key', '[drop, ok]');
    expect(run.failed).toEqual(
      expect.arrayContaining([
        'demo flaky downstream › downstreamEffectsPerKey',
        'demo flaky downstream › forwardedKeyStable',
      ]),
    );
    expect(messagesOf(run, 'downstreamEffectsPerKey')).toContain(
      'without a forwarded key (Idempotency-Key)',
    );
  });

  it('new-key-per-retry under a dropped first call: two charges for one key', async () => {
    const run = await runWith('new-key-per-retry', '[drop, ok]');
    expect(run.failed).toEqual(
      expect.arrayContaining([
        'demo flaky downstream › downstreamEffectsPerKey',
        'demo flaky downstream › forwardedKeyStable',
      ]),
    );
    expect(messagesOf(run, 'downstreamEffectsPerKey')).toMatch(
      /called 2 times for key '[^']+' and did the work 2 times .*: the target retried its call with a new key/,
    );
  });

  it('new-key-per-retry under a failed first call: the changing key is caught', async () => {
    const run = await runWith('new-key-per-retry', '[{ status: 503 }, ok]');
    expect(run.failed).toContain('demo flaky downstream › forwardedKeyStable');
  });
});
