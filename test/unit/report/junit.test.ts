import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JUNIT_FILE, junitReporter, junitXml } from '../../../src/report/junit.js';
import type { RunResult } from '../../../src/run/result.js';
import { testContext, type TestContext } from './context.js';
import {
  buildFixture,
  DUPLICATE_KEY,
  FAIL,
  HOSTILE_CDATA,
  HOSTILE_SCRIPT,
  PASS,
  STOPPED,
  UNKNOWN,
} from './fixture.js';
import { children, elements, parseXml, textOf, type ParsedElement } from './xml-parse.js';

type Anomaly = RunResult['scenarios'][number]['checks'][number]['anomalies'][number];

/** The fixture's run with the anomalies of its failing scenario's first check replaced. */
function withFirstCheckAnomalies(anomalies: (first: Anomaly) => Anomaly[]): RunResult {
  const { result } = buildFixture();
  const failing = result.scenarios[1];
  const check = failing?.checks[0];
  const first = check?.anomalies[0];
  if (failing === undefined || check === undefined || first === undefined)
    throw new Error('fixture changed');
  return {
    ...result,
    scenarios: [
      {
        ...failing,
        checks: [{ ...check, anomalies: anomalies(first) }, ...failing.checks.slice(1)],
      },
    ],
  };
}

describe('junit.xml', () => {
  let test: TestContext;
  let xml: string;
  let root: ParsedElement;

  beforeEach(async () => {
    test = testContext();
    const { result, history } = buildFixture();
    const files = await junitReporter(test.context).onEnd(result, history);
    expect(files).toEqual([`${test.context.reportDir}/${JUNIT_FILE}`]);
    xml = readFileSync(files[0] ?? '', 'utf8');
    root = parseXml(xml);
  });
  afterEach(() => test.remove());

  function testcase(suite: string, name: string): ParsedElement {
    const found = elements(root, 'testcase').find(
      (c) => c.attributes.classname === suite && c.attributes.name === name,
    );
    if (found === undefined) throw new Error(`no testcase ${suite} / ${name}`);
    return found;
  }

  it('is well-formed, with totals that add up over the checks', () => {
    expect(root.name).toBe('testsuites');
    expect(root.attributes.name).toBe('idemproof');
    const cases = elements(root, 'testcase');
    const { result } = buildFixture();
    const checks = result.scenarios.reduce((sum, s) => sum + s.checks.length, 0);
    // One testcase per check, plus "scenario" for the scenario that stopped before any check.
    expect(cases).toHaveLength(checks + 1);
    expect(root.attributes).toMatchObject({
      tests: '10',
      failures: '2',
      errors: '3',
      skipped: '2',
      time: '5.432',
    });
    expect(elements(root, 'failure')).toHaveLength(2);
    expect(elements(root, 'error')).toHaveLength(3);
    expect(elements(root, 'skipped')).toHaveLength(2);
    const suites = children(root, 'testsuite');
    expect(suites.map((s) => s.attributes.name)).toEqual([PASS, FAIL, UNKNOWN, STOPPED]);
    for (const suite of suites) {
      const own = children(suite, 'testcase');
      expect(Number(suite.attributes.tests)).toBe(own.length);
      expect(Number(suite.attributes.failures)).toBe(
        own.filter((c) => children(c, 'failure').length > 0).length,
      );
      expect(Number(suite.attributes.errors)).toBe(
        own.filter((c) => children(c, 'error').length > 0).length,
      );
      expect(Number(suite.attributes.skipped)).toBe(
        own.filter((c) => children(c, 'skipped').length > 0).length,
      );
    }
    const failing = suites[1];
    const properties = failing === undefined ? [] : elements(failing, 'property');
    expect(properties.find((p) => p.attributes.name === 'file')?.attributes.value).toBe(
      `scenarios/${FAIL}.yaml`,
    );
  });

  it('makes one failing testcase per defect, with its first violation in full', () => {
    const failure = children(testcase(FAIL, 'effectsPerKey: duplicate effect'), 'failure')[0];
    expect(failure?.attributes.type).toBe('duplicate-effect');
    // The message attribute is the first anomaly's message, control characters stripped.
    expect(failure?.attributes.message).toBe(
      `Key ${DUPLICATE_KEY} made 2 payments after a lost response: ${HOSTILE_SCRIPT} ${HOSTILE_CDATA} bellnulesc[31mred[0m`,
    );
    const text = failure === undefined ? '' : textOf(failure);
    expect(text).toContain('expected: exactly one payment for the key');
    expect(text).toContain(`actual:   2 payments ${HOSTILE_SCRIPT}`);
    expect(text).toContain("curl:     curl -X POST 'http://127.0.0.1:8080/payments'");
    expect(text).toContain('seed 42 · replay: npx idemproof run');
    const replay = children(testcase(FAIL, 'replayIdentical: replay body differs'), 'failure')[0];
    expect(replay?.attributes.type).toBe('replay-body-differs');
  });

  it('groups the violations of one defect into one failing testcase that counts them', () => {
    const many = withFirstCheckAnomalies((first) => [
      ...Array.from({ length: 3 }, (_, i) => ({ ...first, key: `k-${i}` })),
      { ...first, kind: 'missing-effect' },
    ]);
    const parsed = parseXml(junitXml(many, '/tmp/reports/run'));
    const failures = elements(parsed, 'testcase').filter(
      (one) => children(one, 'failure').length > 0,
    );
    expect(failures.map((one) => one.attributes.name)).toEqual([
      'effectsPerKey: duplicate effect',
      'effectsPerKey: missing effect',
      'replayIdentical: replay body differs',
    ]);
    const text = textOf(children(failures[0] as ParsedElement, 'failure')[0] as ParsedElement);
    expect(text).toContain('duplicate effect: 3 violations of effectsPerKey in scenario');
    expect(text).toContain('2. [duplicate-effect] key k-1 · events');
    expect(text).toContain('3. [duplicate-effect] key k-2 · events');
    expect(parsed.attributes.failures).toBe('3');
  });

  it('makes one failing testcase for a defect that shows in several checks, naming its symptoms', () => {
    const replayCheck = buildFixture().result.scenarios[1]?.checks[1];
    const replayKey = replayCheck?.anomalies[0]?.key ?? null;
    const replayTenant = replayCheck?.anomalies[0]?.tenant ?? null;
    const linked = withFirstCheckAnomalies((first) => [
      { ...first, key: replayKey, tenant: replayTenant },
      { ...first, key: 'k-2' },
    ]);
    const parsed = parseXml(junitXml(linked, '/tmp/reports/run'));
    const cases = elements(parsed, 'testcase');
    const failures = cases.filter((one) => children(one, 'failure').length > 0);
    expect(failures.map((one) => one.attributes.name)).toEqual(['effectsPerKey: duplicate effect']);
    const failure = children(failures[0] as ParsedElement, 'failure')[0] as ParsedElement;
    expect(failure.attributes.message).toBe(
      '3 violations: duplicate effect (2); replay body differs (1)',
    );
    const text = textOf(failure);
    expect(text).toContain(
      'duplicate effect: 3 violations of effectsPerKey and replayIdentical in scenario',
    );
    expect(text).toContain('2 symptoms:');
    expect(text).toContain(
      `- replayIdentical: replay body differs · 1 violation · key ${replayKey ?? ''}`,
    );
    expect(text).toContain('2. [duplicate-effect] key k-2 · events');
    expect(text).toContain(
      `3. [replay-body-differs] key ${replayKey ?? ''} · tenant ${replayTenant ?? ''} · `,
    );
    // The other check's violations fail once, in the defect: its own testcase says where.
    const replay = cases.find((one) => one.attributes.name === 'replayIdentical');
    expect(children(replay as ParsedElement, 'skipped')[0]?.attributes.message).toBe(
      'violated: 1 violation counted as symptoms of effectsPerKey: duplicate effect',
    );
    expect(parsed.attributes.failures).toBe('1');
  });

  it('reports unknown as error when the scenario stopped early, else as skipped', () => {
    const error = children(testcase(UNKNOWN, 'effectsPerKey'), 'error')[0];
    expect(error?.attributes.type).toBe('IDEMPROOF_ERR_TARGET_UNREACHABLE');
    expect(error === undefined ? '' : textOf(error)).toContain('no attempt completed');
    const skipped = children(testcase(FAIL, 'stateOrder'), 'skipped')[0];
    expect(skipped?.attributes.message).toBe(
      `unknown: The state probe returned nothing readable ${HOSTILE_SCRIPT}`,
    );
    expect(children(testcase(PASS, 'conflictOnMismatch'), 'skipped')[0]?.attributes.message).toBe(
      'not applicable',
    );
    expect(testcase(PASS, 'effectsPerKey').children.filter((c) => typeof c !== 'string')).toEqual(
      [],
    );
    const stopped = children(testcase(STOPPED, 'scenario'), 'error')[0];
    expect(stopped?.attributes.message).toContain('probe unreachable end of data ]]> here');
  });

  it('keeps hostile text escaped and drops characters XML forbids', () => {
    expect(xml).not.toContain('<script');
    expect(xml).not.toContain(']]>');
    expect(xml).toContain('&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(xml).toContain(']]&gt;');
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml).not.toContain('&amp;lt;');
  });
});
