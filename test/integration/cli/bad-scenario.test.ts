import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../support/cli.js';
import {
  FORMER_CRASHES,
  editedScenario,
  isRefused,
  messageProblems,
  mutatedScenario,
  renderedDocument,
  yamlishText,
} from '../../support/scenario-fuzz.js';

/** Nothing listens on the discard port: a run that got as far as Toxiproxy would fail there. */
const NO_TOXIPROXY = 'http://127.0.0.1:9';
const DOCUMENTS = 20;

function cli(args: string[], cwd: string): Promise<CliResult> {
  return runCli(args, { TOXIPROXY_URL: NO_TOXIPROXY }, cwd);
}

/** Runs `task` on every item, at most `limit` at a time, results in order. */
async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += limit) {
    results.push(...(await Promise.all(items.slice(start, start + limit).map(task))));
  }
  return results;
}

describe('idemproof run with a fuzzed bad scenario file', () => {
  let folder: string;
  /** Documents the loader refuses (fuzzed, then former crashes): file name (in `folder`), text. */
  const documents: { name: string; text: string }[] = [];

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'idemproof-bad-scenario-'));
    const candidates = fc.sample(
      fc.oneof(mutatedScenario, editedScenario, renderedDocument, yamlishText),
      { seed: 20261124, numRuns: 100 },
    );
    for (const [index, text] of candidates.entries()) {
      if (documents.length === DOCUMENTS) break;
      const name = `bad-${index}.yaml`;
      writeFileSync(join(folder, name), text);
      if (await isRefused(join(folder, name))) documents.push({ name, text });
    }
    for (const [index, text] of FORMER_CRASHES.entries()) {
      const name = `former-crash-${index}.yaml`;
      writeFileSync(join(folder, name), text);
      documents.push({ name, text });
    }
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('exits 2 with a scenario error naming the file, without a stack trace, before starting anything', async () => {
    expect(documents).toHaveLength(DOCUMENTS + FORMER_CRASHES.length);
    const reports = join(folder, 'reports');
    const results = await inBatches(documents, 5, ({ name }) =>
      cli(['run', name, '--toxiproxy', NO_TOXIPROXY, '--report-dir', reports], folder),
    );
    const failures = documents.flatMap(({ name, text }, index) => {
      const { code, stderr } = results[index] ?? { code: null, stderr: '' };
      const problems = [
        ...(code === 2 ? [] : [`exit code ${code}`]),
        ...(stderr.includes('(IDEMPROOF_ERR_SCENARIO)') ? [] : ['not a scenario error']),
        ...messageProblems(stderr, name, text),
      ];
      return problems.length === 0 ? [] : [{ name, problems, stderr, document: text }];
    });
    expect(failures).toEqual([]);
    // Nothing started: not even the report folder was created.
    expect(existsSync(reports)).toBe(false);
  });
});
