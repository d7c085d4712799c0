import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, expectTypeOf, inject, it } from 'vitest';
import { IdemproofError } from '../../../src/errors.js';
import { defineScenario, run, type RunResult } from '../../../src/index.js';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import { idempotencyMatchers } from '../../../src/vitest.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

expect.extend(idempotencyMatchers);

/** Small on purpose: a few seconds a run. `--target` points it at each demo. */
const payments = defineScenario({
  name: 'library payments',
  target: { baseUrl: 'http://127.0.0.1:1', method: 'POST', path: '/payments', timeoutMs: 5000 },
  payload: {
    template: { amount: 1250, currency: 'EUR', customer: 'cus_{{marker}}' },
    different: { amount: 7 },
  },
  effects: { http: { url: '/payments?idempotency_key={{key}}', count: '$.count' } },
  settleMs: 20,
  patterns: [
    { kind: 'sequential-duplicates', count: 3 },
    { kind: 'payload-mismatch', concurrent: 2 },
  ],
});

/** The lines of the terminal summary's "Defects: n defects (m violations)" block. */
function violationBlock(summary: string): string {
  const lines = summary.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Defects: '));
  const end = lines.indexOf('', start);
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

describe('idemproof/vitest and run() against the demo target', () => {
  let folder: string;
  let correct: RunningDemo;
  let flawed: RunningDemo;
  const toxiproxyUrl = (): string => inject('toxiproxyUrl');
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-library-'));
    [correct, flawed] = await Promise.all([
      startDemo({ processingMs: 20 }),
      startDemo({ flaw: 'no-payload-check', processingMs: 20 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([correct.stop(), flawed.stop()]);
    await rm(folder, { recursive: true, force: true });
  });

  it('passes toBeIdempotent() on the correct demo, and writes the HTML report it would name', async () => {
    const reportDir = join(folder, 'correct');
    await expect(payments).toBeIdempotent({
      target: correct.target.url,
      toxiproxyUrl: toxiproxyUrl(),
      reportDir,
      seed: 7,
    });
    const [runDir = ''] = await readdir(reportDir);
    expect(await readdir(join(reportDir, runDir))).toEqual(
      expect.arrayContaining(['index.html', 'results.json', 'history.jsonl', 'run.json']),
    );
  });

  it("fails on the flawed demo with the terminal report's own violation lines", async () => {
    let printed = '';
    const failure = await expect(payments)
      .toBeIdempotent({
        target: flawed.target.url,
        toxiproxyUrl: toxiproxyUrl(),
        reportDir: join(folder, 'flawed'),
        seed: 7,
        // The terminal reporter prints the same run, for comparison.
        reporters: ['terminal', 'html', 'json'],
        out: (text) => (printed += text),
      })
      .then(
        () => new Error('toBeIdempotent() passed on a target that ignores the payload'),
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;

    const violations = violationBlock(printed);
    expect(violations).toMatch(
      /^Defects: \d+ defects? \(\d+ violations?\)\n✗ 1\. .+\n {2}in library payments\n {2}first: library payments · conflictOnMismatch/,
    );
    expect(message).toContain(violations);
    expect(message.split('\n')[0]).toMatch(
      /^FAIL: \d+ defects? \(\d+ violations?\) in \d+ checks?/,
    );
    expect(printed.split('\n')).toContain(message.split('\n')[0]);

    const replay = /^seed 7 · replay: (.*)$/m.exec(message)?.[1];
    expect(replay).toBe('expect(scenario).toBeIdempotent({ seed: 7 })');
    const report = /^report: (.*)$/m.exec(message)?.[1] ?? '';
    expect(printed).toContain(`report: ${report}`);
    expect(existsSync(report)).toBe(true);
    const result = JSON.parse(
      await readFile(join(dirname(report), 'results.json'), 'utf8'),
    ) as RunResult;
    expect(result.valid).toBe(false);
  });

  it('passes .not.toBeIdempotent() on the flawed demo only', async () => {
    const options = { toxiproxyUrl: toxiproxyUrl(), reportDir: join(folder, 'not'), seed: 7 };
    await expect(payments).not.toBeIdempotent({ ...options, target: flawed.target.url });
    await expect(
      expect(payments).not.toBeIdempotent({ ...options, target: correct.target.url }),
    ).rejects.toThrow(/^expected a violation of idempotency, but every check holds:\nPASS: /);
  });

  it('fails both ways when the run cannot decide, with the reason', async () => {
    // Nothing listens on port 1: the preflight stops the scenario before any traffic.
    const options = {
      target: 'http://127.0.0.1:1',
      toxiproxyUrl: toxiproxyUrl(),
      reportDir: join(folder, 'unknown'),
    };
    const reason =
      /^UNKNOWN: [^\n]*\n[\s\S]*\n! library payments stopped early: IDEMPROOF_ERR_\w+: /;
    await expect(expect(payments).toBeIdempotent(options)).rejects.toThrow(reason);
    await expect(expect(payments).not.toBeIdempotent(options)).rejects.toThrow(
      /^expected a violation of idempotency, but the run could not decide:\nUNKNOWN: /,
    );
  });

  it('returns a typed result from run() with a defineScenario object, with json reports only', async () => {
    const reportDir = join(folder, 'run');
    const outcome = await run(payments, {
      target: correct.target.url,
      toxiproxyUrl: toxiproxyUrl(),
      reportDir,
      seed: 11,
    });
    expectTypeOf(outcome.result).toEqualTypeOf<RunResult>();
    const { result } = outcome;
    expect(result.valid).toBe(true);
    expect(result.seed).toBe(11);
    expect(result.replayCommand).toBe('run(scenarios, { seed: 11 })');
    expect(result.scenarios.map(({ name, file }) => ({ name, file }))).toEqual([
      { name: 'library payments', file: "scenario 'library payments'" },
    ]);
    expect(outcome.history.filter((event) => event.type === 'invoke').length).toBe(
      result.scenarios[0]?.attempts.total,
    );
    expect(await readdir(result.reportDir)).toEqual(
      expect.arrayContaining(['results.json', 'history.jsonl', 'run.json']),
    );
    expect(await readdir(result.reportDir)).not.toContain('index.html');
  });

  it('validates a scenario object like a file, naming the scenario, before any traffic', async () => {
    const broken = defineScenario({
      ...payments,
      target: { ...payments.target, baseUrl: 'not a url' },
    });
    const error = await run([broken], { reportDir: join(folder, 'broken') }).then(
      () => undefined,
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(IdemproofError);
    expect((error as IdemproofError).message).toMatch(
      /^invalid scenario:\n {2}scenario 'library payments' at target\.baseUrl: /,
    );
    expect(existsSync(join(folder, 'broken'))).toBe(false);
  });

  it('maps package.json exports "./vitest" to files that npm run build produces', async () => {
    const manifest = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    const entry = manifest.exports['./vitest'];
    expect(entry).toEqual({ types: './dist/vitest.d.ts', default: './dist/vitest.js' });
    expect(existsSync(join(PACKAGE_ROOT, entry?.types ?? ''))).toBe(true);
    const built = (await import(pathToFileURL(join(PACKAGE_ROOT, entry?.default ?? '')).href)) as {
      idempotencyMatchers?: Record<string, unknown>;
    };
    expect(typeof built.idempotencyMatchers?.toBeIdempotent).toBe('function');
    // The main entry must not load vitest: no other compiled file imports it.
    const others = (await readdir(join(PACKAGE_ROOT, 'dist'), { recursive: true })).filter(
      (file) => file.endsWith('.js') && file !== 'vitest.js',
    );
    for (const file of others) {
      expect(await readFile(join(PACKAGE_ROOT, 'dist', file), 'utf8'), file).not.toMatch(
        /from ['"]vitest['"]/,
      );
    }
  });
});
