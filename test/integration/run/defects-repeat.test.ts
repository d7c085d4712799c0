import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rebuildReports } from '../../../src/run/rebuild.js';
import type { RunResult } from '../../../src/run/result.js';
import { runSuite, type RunOutcome } from '../../../src/run/run.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

/**
 * Grouped defects and `--repeat` against the demo target with the check-then-insert flaw: one
 * bug seen in many keys and checks is a few defects, each with its symptoms, junit.xml has one
 * failing testcase per defect, and a repeated run says in how many pattern runs each defect
 * showed.
 */

const SCENARIO = `
name: defects payments
target:
  baseUrl: http://127.0.0.1:3000
  method: POST
  path: /payments
  timeoutMs: 5000
key:
  header: Idempotency-Key
  template: 'dr-{{run}}-{{n}}'
payload:
  template:
    amount: { $int: [100, 99999] }
    currency: EUR
    customer: 'cus_{{marker}}'
  different: { amount: 42 }
effects:
  http: { url: '/payments?idempotency_key={{key}}', count: $.count }
profile: default
patterns:
  - kind: sequential-duplicates
    count: 2
  - kind: concurrent-burst
    count: 6
    rounds: 2
`;

const quiet = { out: () => undefined, err: () => undefined, interactive: false } as const;
const REPEAT = 3;

describe('grouped defects and --repeat on the check-then-insert flaw', () => {
  let demo: RunningDemo;
  let folder: string;
  let outcome: RunOutcome;
  beforeAll(async () => {
    demo = await startDemo({ flaw: 'check-then-insert', processingMs: 20 });
    folder = await mkdtemp(join(tmpdir(), 'idemproof-defects-'));
    const file = join(folder, 'payments.yaml');
    await writeFile(file, SCENARIO);
    outcome = await runSuite({
      ...quiet,
      paths: [file],
      target: demo.target.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      seed: 5,
      repeat: REPEAT,
      reportDir: join(folder, 'reports'),
      reporters: ['json', 'junit', 'html'],
    });
  }, 120_000);
  afterAll(async () => {
    await demo.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('groups every violation into a few defects whose counts add up', () => {
    const { result } = outcome;
    expect(result.valid).toBe(false);
    const violations = result.scenarios
      .flatMap((scenario) => scenario.checks)
      .filter((check) => check.valid === false)
      .reduce((sum, check) => sum + check.anomalies.length, 0);
    const defects = result.defects ?? [];
    expect(defects.length).toBeGreaterThan(0);
    expect(defects.length).toBeLessThan(violations);
    expect(defects.reduce((sum, defect) => sum + defect.count, 0)).toBe(violations);
    const double = defects.find(
      (defect) =>
        defect.signature.kind === 'duplicate-effect' &&
        defect.signature.patternKind === 'concurrent-burst',
    );
    // 200s and 201s read as one class: one symptom, whatever the endpoint answers.
    expect(double?.title).toBe(
      'duplicate effect under concurrent-burst on the clean lane: 2xx + 2xx',
    );
    // The race's other symptoms on the same keys belong to the same defect.
    const kinds = double?.symptoms.map((symptom) => symptom.signature.kind) ?? [];
    expect(kinds[0]).toBe('duplicate-effect');
    expect(kinds).toEqual(expect.arrayContaining(['replay-body-differs']));
    for (const defect of defects) {
      expect(defect.count).toBe(defect.symptoms.reduce((sum, one) => sum + one.count, 0));
      expect(defect.id).toBe(defect.symptoms[0]?.id);
    }
    // A key is in one defect only.
    const owners = new Map<string, string>();
    for (const defect of result.scenarios[0]?.defects ?? []) {
      for (const symptom of defect.symptoms) {
        for (const ref of [symptom.first, ...symptom.others]) {
          if (ref.key === null) continue;
          expect(owners.get(ref.key) ?? defect.id).toBe(defect.id);
          owners.set(ref.key, defect.id);
        }
      }
    }
  });

  it('counts reproduction per pattern run over the repetitions', () => {
    const { result } = outcome;
    expect(result.repeat).toBe(REPEAT);
    expect(result.replayCommand).toContain(`--repeat ${REPEAT}`);
    const ids = result.scenarios[0]?.patterns.map((pattern) => pattern.id) ?? [];
    expect(ids).toEqual(
      expect.arrayContaining([
        'concurrent-burst#1',
        'concurrent-burst#1@2',
        'concurrent-burst#1@3',
      ]),
    );
    for (const defect of result.defects ?? []) {
      const reproduced = defect.reproduced;
      expect(reproduced).not.toBeNull();
      expect(reproduced?.of).toBe(REPEAT * (reproduced?.patterns.length ?? 0));
      expect(reproduced?.runs).toBeGreaterThanOrEqual(1);
      expect(reproduced?.runs).toBeLessThanOrEqual(reproduced?.of ?? 0);
    }
  });

  it('writes the defects to results.json and one failing junit testcase per defect', async () => {
    const dir = outcome.result.reportDir;
    const written = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunResult;
    expect(written.repeat).toBe(REPEAT);
    expect(written.defects?.map((defect) => defect.id)).toEqual(
      outcome.result.defects?.map((defect) => defect.id),
    );
    expect(written.scenarios[0]?.defects?.length).toBe(outcome.result.defects?.length);
    expect(written.defects?.map((defect) => defect.symptoms.map((symptom) => symptom.id))).toEqual(
      outcome.result.defects?.map((defect) => defect.symptoms.map((symptom) => symptom.id)),
    );
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    const failing = [...junit.matchAll(/<testcase [^>]*name="([^"]+)"[^>]*>\s*<failure/g)].map(
      (match) => match[1],
    );
    expect(failing).toEqual(
      (written.scenarios[0]?.defects ?? []).map(
        (defect) => `${defect.signature.checker}: ${defect.title}`,
      ),
    );
    expect(junit).toMatch(/reproduced in \d+ of \d+ runs of /);
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    expect(html.indexOf('id="defects"')).toBeGreaterThan(0);
    expect(html.indexOf('id="defects"')).toBeLessThan(html.indexOf('id="violations"'));
  });

  it('rebuilds the same defects and rates from the run folder', async () => {
    const copy = join(folder, 'rebuilt');
    await cp(outcome.result.reportDir, copy, { recursive: true });
    const rebuilt = await rebuildReports({ ...quiet, reportDir: copy, reporters: ['json'] });
    expect(rebuilt.result.repeat).toBe(REPEAT);
    expect(rebuilt.result.defects).toEqual(outcome.result.defects);
    expect(await readdir(copy)).toContain('results.json');
  });
});
