import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  conformanceTable,
  isAnyonceRow,
  resultOfScenario,
  tableCells,
  tableInDoc,
} from '../../support/conformance-table.js';
import { loadScenarioFiles } from '../../../src/scenario/load.js';
import { runSuite, type RunOutcome } from '../../../src/run/run.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

/**
 * The conformance suite (scenarios/conformance: every public anyonce vector and every
 * idempot.dev Gherkin case) against the demo target, through real Toxiproxy. The demo keeps
 * keys 2000 ms, the anyonce short-ttl capability. docs/conformance.md holds the table of
 * results; this test holds it true.
 */
const FOLDER = 'scenarios/conformance';
const DOC = 'docs/conformance.md';

let demo: RunningDemo;
let run: RunOutcome;
let reportDir: string;

beforeAll(async () => {
  demo = await startDemo({ keyTtlMs: 2000 });
  reportDir = await mkdtemp(join(tmpdir(), 'idemproof-conformance-'));
  run = await runSuite({
    paths: [FOLDER],
    target: `${demo.target.url}/conformance`,
    toxiproxyUrl: inject('toxiproxyUrl'),
    reportDir,
    reporters: ['json'],
    seed: 20261203,
    out: () => undefined,
    err: () => undefined,
    interactive: false,
  });
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  if (reportDir !== undefined) await rm(reportDir, { recursive: true, force: true });
});

describe('the conformance scenarios', () => {
  it('are one valid file per anyonce vector (11 core, 9 profile) and per idempot.dev Gherkin case, each citing its source', async () => {
    const files = (await readdir(FOLDER)).filter((file) => file.endsWith('.yaml')).sort();
    const loaded = await loadScenarioFiles([FOLDER]);
    expect(loaded).toHaveLength(files.length);
    expect(files.filter((file) => file.startsWith('core-'))).toHaveLength(11);
    expect(files.filter((file) => file.startsWith('profile-'))).toHaveLength(9);
    expect(files.filter((file) => file.startsWith('gherkin-'))).toHaveLength(30);
    for (const file of files) {
      const text = await readFile(join(FOLDER, file), 'utf8');
      const source = file.startsWith('gherkin-')
        ? 'https://github.com/idempot-dev/website/blob/main/docs/specs/idempotency.feature'
        : `https://github.com/sns45/anyonce/blob/main/conformance/vectors/${file.replace('-', '/').replace('.yaml', '.json')}`;
      expect(text, file).toContain(`# Source: ${source}`);
      expect(text, file).toMatch(/^# Asserts: /m);
    }
  });

  it('run against the demo target, each with the result docs/conformance.md states', async () => {
    expect(run.result.scenarios.map((scenario) => scenario.error)).toEqual(
      run.result.scenarios.map(() => null),
    );
    const computed = conformanceTable(run.result.scenarios.map(resultOfScenario));
    const documented = tableInDoc(await readFile(DOC, 'utf8'));
    // On a difference, the message shows the table this run produced, ready to paste.
    expect(tableCells(documented), `the table this run produced:\n${computed}`).toEqual(
      tableCells(computed),
    );
    // The README's table: the 20 anyonce vectors, linked from the project's root.
    const anyonce = run.result.scenarios.map(resultOfScenario).filter(isAnyonceRow);
    expect(anyonce).toHaveLength(20);
    const readmeTable = conformanceTable(anyonce, 'scenarios/conformance/');
    expect(
      tableCells(tableInDoc(await readFile('README.md', 'utf8'), 'README.md')),
      `the README table this run produced:\n${readmeTable}`,
    ).toEqual(tableCells(readmeTable));
    // The demo passes what it implements and fails, with a named check, what it chose not to.
    const results = run.result.scenarios.map(resultOfScenario);
    expect(results.filter((result) => result.result === 'pass').length).toBeGreaterThan(0);
    expect(results.filter((result) => result.result.startsWith('fail')).length).toBeGreaterThan(0);
    // Every scripted step was judged: none left unknown.
    expect(run.result.scenarios.filter((scenario) => scenario.valid === 'unknown')).toEqual([]);
  });
});
