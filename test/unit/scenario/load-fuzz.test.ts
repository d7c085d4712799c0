import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { loadScenarioFiles } from '../../../src/scenario/load.js';
import {
  VALID_SCENARIOS,
  aliasBomb,
  editedScenario,
  errorProblems,
  loadProblems,
  mutatedScenario,
  renderedDocument,
  yamlishText,
} from '../../support/scenario-fuzz.js';

/**
 * The loader never crashes: every generated or mutated document either loads and plans, or is
 * refused with a scenario error (exit 2) that names the file and a place in it. 1,300
 * documents per run; a failure prints the document, shrunk.
 */
// Hundreds of documents per property: a busy machine running the whole unit project in
// parallel takes longer than vitest's default 5 s.
describe('the scenario loader under fuzzed documents', { timeout: 30_000 }, () => {
  let folder: string;
  let written = 0;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'idemproof-load-fuzz-'));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  function write(text: string): string {
    written += 1;
    const path = join(folder, `doc-${written}.yaml`);
    writeFileSync(path, text);
    return path;
  }

  async function assertClean(text: string): Promise<void> {
    const problems = await loadProblems(write(text), text);
    if (problems.length > 0) {
      throw new Error(`${problems.join('; ')}\ndocument: ${JSON.stringify(text)}`);
    }
  }

  it('refuses YAML-ish text, random strings and random bytes cleanly', async () => {
    await fc.assert(fc.asyncProperty(yamlishText, assertClean), { numRuns: 300 });
  });

  it('refuses random data rendered as YAML cleanly', async () => {
    await fc.assert(fc.asyncProperty(renderedDocument, assertClean), { numRuns: 300 });
  });

  it('refuses text mutations of the shipped scenarios cleanly, or loads and plans them', async () => {
    await fc.assert(fc.asyncProperty(mutatedScenario, assertClean), { numRuns: 400 });
  });

  it('refuses shipped scenarios with deleted, wrong-typed or extra values cleanly', async () => {
    await fc.assert(fc.asyncProperty(editedScenario, assertClean), { numRuns: 300 });
  });

  async function refusal(text: string): Promise<{ message: string; problems: string[] }> {
    const path = write(text);
    const error = await loadScenarioFiles([path]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    return {
      message: isIdemproofError(error) ? error.message : String(error),
      problems: error === undefined ? ['loaded'] : errorProblems(error, path, text),
    };
  }

  it('refuses a billion-laughs alias bomb quickly', async () => {
    const bomb = aliasBomb(VALID_SCENARIOS[0] ?? '');
    const started = performance.now();
    const { message, problems } = await refusal(bomb);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([]);
    expect(message).toMatch(/:\d+:\d+: invalid YAML: .*alias/);
  });

  it('refuses a value that contains itself through an alias', async () => {
    const text = VALID_SCENARIOS[0]?.replace('template: { status: paid }', 'template: &t [*t]');
    const { message, problems } = await refusal(text ?? '');
    expect(problems).toEqual([]);
    expect(message).toMatch(/doc-\d+\.yaml:\d+:\d+: invalid YAML: .*\*t/);
  });

  it('refuses nesting too deep to read', async () => {
    const text = VALID_SCENARIOS[0]?.replace(
      '{ status: paid }',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
    );
    const { message, problems } = await refusal(text ?? '');
    expect(problems).toEqual([]);
    expect(message).toMatch(/invalid YAML: nested too deeply/);
  });

  it('refuses a 10 MB file without reading it as YAML', async () => {
    const line = `# ${'x'.repeat(98)}\n`;
    const text = `${VALID_SCENARIOS[0]}${line.repeat(100_000)}`;
    const started = performance.now();
    const { message, problems } = await refusal(text);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([]);
    expect(message).toMatch(/is 10\.\d MB; scenario files are limited to 1 MB/);
  });

  it('reads a file just under the cap in linear time, repeated keys included', async () => {
    // 90,000 keys in one map: a check that compares every pair of keys takes minutes.
    const keys = Array.from({ length: 90_000 }, (_, index) => `k${index}: 1`).join('\n');
    const started = performance.now();
    const { message, problems } = await refusal(`${VALID_SCENARIOS[0]}${keys}\nk7: 2\n`);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(problems).toEqual([]);
    expect(message).toMatch(/:90036:1: invalid YAML: the key "k7" appears twice$/);
  });

  it('refuses unknown template variables before any traffic, naming where they are', async () => {
    const text = VALID_SCENARIOS[2]?.replace('path: /payments', 'path: /payments/{{constructor}}');
    const { message, problems } = await refusal(text ?? '');
    expect(problems).toEqual([]);
    expect(message).toMatch(/:9:9 at target\.path: unknown template variable \{\{constructor\}\}/);
  });

  it('escapes control characters that a document would echo into the terminal', async () => {
    const text = `${VALID_SCENARIOS[0]}"\\n    at evil (x.js:1:1)\\e[2J": 1\n`;
    const { message, problems } = await refusal(text);
    expect(problems).toEqual([]);
    expect(message).toContain('Unrecognized key: "\\n    at evil (x.js:1:1)\\u001b[2J"');
  });
});
