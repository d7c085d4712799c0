import type { Defect } from '../check/defects.js';
import type { Anomaly, CheckResult } from '../check/types.js';
import { listWithMore } from '../check/wording.js';
import {
  defectOthers,
  defectsOf,
  heldLine,
  referenceText,
  reproducedLine,
  symptomLine,
  symptomsText,
} from './defect-view.js';
import type { RunResult, ScenarioResult } from '../run/result.js';
import { writeReportFile } from './report-file.js';
import type { Reporter, ReporterFactory } from './types.js';
import { checkStatus, plural, stopSentence } from './verdict.js';
import { insecureWarning, transportLine } from './transport-text.js';
import { element, serialize, type XmlElement, type XmlNode } from './xml.js';

export const JUNIT_FILE = 'junit.xml';

/**
 * junit.xml for CI: one <testsuite> per scenario, one <testcase> per check, and for a violated
 * check one per defect (grouped violations) it leads, so one bug is one failing test however
 * many keys and checks show it.
 *
 * - defect: a testcase "check: defect title", under the check of its lead symptom, with
 *   <failure message="its symptoms with their counts" type="kind"> (a defect of one symptom:
 *   message="first anomaly's message"): the count, how often it
 *   reproduced (--repeat), the first violation in full, its symptoms, and the others as
 *   references
 * - violated check whose violations are all symptoms of defects led by other checks:
 *   <skipped message="violated: symptoms of …"> naming those defects' testcases, so the bug
 *   fails once
 * - violated check that recorded no anomaly: <failure> on the check's testcase
 * - unknown check: <error> when the scenario stopped early, else <skipped message="unknown: …">
 * - check with nothing to examine: <skipped message="not applicable">
 * - scenario that stopped early without checks: one testcase named "scenario" with an <error>
 *
 * Checks are not timed, so a testcase's time is 0; a testsuite's time is its scenario's.
 */

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function seconds(ms: number): string {
  return Number.isFinite(ms) ? (ms / 1000).toFixed(3) : '0.000';
}

function eventList(events: readonly number[]): string {
  return events.length === 0 ? 'none' : events.map((index) => `#${index}`).join(', ');
}

function anomalyText(anomaly: Anomaly, position: number): string {
  const where = [
    anomaly.key === null ? 'no key' : `key ${anomaly.key}`,
    anomaly.tenant === null ? null : `tenant ${anomaly.tenant}`,
  ]
    .filter((part) => part !== null)
    .join(', ');
  const lines = [
    `${position}. [${anomaly.kind}] ${where}`,
    `   ${anomaly.message}`,
    `   expected: ${anomaly.expected}`,
    `   actual:   ${anomaly.actual}`,
    `   events:   ${eventList(anomaly.events)}`,
  ];
  if (anomaly.curl !== undefined) lines.push(`   curl:     ${anomaly.curl}`);
  return lines.join('\n');
}

function notesText(notes: readonly string[]): string[] {
  return notes.length === 0 ? [] : ['', 'notes:', ...notes.map((note) => `- ${note}`)];
}

function footer(result: RunResult, reportDir: string): string[] {
  return ['', `seed ${result.seed} · replay: ${result.replayCommand}`, `report: ${reportDir}`];
}

/** Other violations of a defect listed by reference in its failure text; the rest counted. */
const LISTED_REFERENCES = 50;

/** One failing testcase for one defect: its count, its first violation in full, its symptoms. */
function defectCase(
  scenario: ScenarioResult,
  defect: Defect,
  result: RunResult,
  reportDir: string,
  counts: Counts,
): XmlElement {
  counts.tests++;
  counts.failures++;
  const reproduced = reproducedLine(result, defect);
  const others = defectOthers(defect);
  const listed = others.slice(0, LISTED_REFERENCES);
  const checkers = [...new Set(defect.symptoms.map((symptom) => symptom.signature.checker))];
  const text = [
    `${defect.title}: ${plural(defect.count, 'violation')} of ${listWithMore(checkers, checkers.length)} in scenario ${scenario.name}`,
    ...(reproduced === undefined ? [] : [reproduced]),
    '',
    'first:',
    anomalyText(defect.first, 1),
    '',
    `${plural(defect.symptoms.length, 'symptom')}:`,
    ...defect.symptoms.map((symptom) => `- ${symptom.signature.checker}: ${symptomLine(symptom)}`),
    ...(listed.length === 0
      ? []
      : [
          '',
          'others:',
          ...listed.map(
            ({ kind, reference }, index) =>
              `${index + 2}. [${kind}] ${referenceText(reference)} · events ${eventList(reference.events)}`,
          ),
          ...(others.length > listed.length
            ? [`… and ${others.length - listed.length} more (every one is in the HTML report)`]
            : []),
        ]),
    ...footer(result, reportDir),
  ].join('\n');
  return element(
    'testcase',
    {
      classname: scenario.name,
      name: `${defect.signature.checker}: ${defect.title}`,
      time: seconds(0),
    },
    [
      element(
        'failure',
        {
          message:
            defect.symptoms.length === 1
              ? defect.first.message
              : `${plural(defect.count, 'violation')}: ${symptomsText(defect)}`,
          type: defect.first.kind,
        },
        [text],
      ),
    ],
  );
}

/**
 * The testcases of one check: one per defect it leads when it is violated; a skipped one when
 * its violations are all symptoms of defects led by other checks; else one.
 */
function checkCases(
  scenario: ScenarioResult,
  check: CheckResult,
  defects: readonly Defect[],
  result: RunResult,
  reportDir: string,
  counts: Counts,
): XmlElement[] {
  if (checkStatus(check) !== 'fail' || check.anomalies.length === 0)
    return [checkCase(scenario, check, result, reportDir, counts)];
  const own = defects.filter((defect) => defect.signature.checker === check.checker);
  const elsewhere = defects.filter(
    (defect) =>
      defect.signature.checker !== check.checker &&
      defect.symptoms.some((symptom) => symptom.signature.checker === check.checker),
  );
  if (own.length === 0 && elsewhere.length === 0)
    return [checkCase(scenario, check, result, reportDir, counts)];
  const cases = own.map((defect) => defectCase(scenario, defect, result, reportDir, counts));
  if (elsewhere.length > 0) {
    const shown = elsewhere.reduce(
      (sum, defect) =>
        sum +
        defect.symptoms
          .filter((symptom) => symptom.signature.checker === check.checker)
          .reduce((total, symptom) => total + symptom.count, 0),
      0,
    );
    counts.tests++;
    counts.skipped++;
    const names = elsewhere.map((defect) => `${defect.signature.checker}: ${defect.title}`);
    cases.push(
      element('testcase', { classname: scenario.name, name: check.checker, time: seconds(0) }, [
        element('skipped', {
          message: `violated: ${plural(shown, 'violation')} counted as symptoms of ${names.join('; ')}`,
        }),
      ]),
    );
  }
  return cases;
}

function checkCase(
  scenario: ScenarioResult,
  check: CheckResult,
  result: RunResult,
  reportDir: string,
  counts: Counts,
): XmlElement {
  const attributes = { classname: scenario.name, name: check.checker, time: seconds(0) };
  counts.tests++;
  const status = checkStatus(check);
  const children: XmlNode[] = [];
  if (status === 'fail') {
    counts.failures++;
    const first = check.anomalies[0];
    const text = [
      `${plural(check.anomalies.length, 'violation')} of ${check.checker} in scenario ${scenario.name}:`,
      ...check.anomalies.map((anomaly, index) => `\n${anomalyText(anomaly, index + 1)}`),
      ...notesText(check.notes),
      ...footer(result, reportDir),
    ].join('\n');
    children.push(
      element(
        'failure',
        {
          message: first?.message ?? `${check.checker} is violated (no anomaly was recorded)`,
          type: first?.kind ?? 'violation',
        },
        [text],
      ),
    );
  } else if (status === 'unknown') {
    const reasons = check.notes.length > 0 ? check.notes.join('; ') : 'the checker gave no reason';
    if (scenario.error !== null) {
      counts.errors++;
      const text = [
        `${check.checker} could not decide: scenario ${scenario.name} stopped early.`,
        `${scenario.error.code}: ${scenario.error.message}`,
        ...notesText(check.notes),
        ...check.anomalies.map((anomaly, index) => `\n${anomalyText(anomaly, index + 1)}`),
        ...footer(result, reportDir),
      ].join('\n');
      children.push(
        element(
          'error',
          { message: `unknown: ${scenario.error.message}`, type: scenario.error.code },
          [text],
        ),
      );
    } else {
      counts.skipped++;
      children.push(element('skipped', { message: `unknown: ${reasons}` }));
    }
  } else if (status === 'not-applicable') {
    counts.skipped++;
    children.push(
      element(
        'skipped',
        { message: 'not applicable' },
        check.notes.length > 0 ? [check.notes.join('\n')] : [],
      ),
    );
  } else if (check.notes.length > 0 || heldLine(result) !== undefined) {
    const held = heldLine(result);
    children.push(
      element('system-out', {}, [
        [...(held === undefined ? [] : [held]), ...check.notes].join('\n'),
      ]),
    );
  }
  return element('testcase', attributes, children);
}

function scenarioErrorCase(
  scenario: ScenarioResult,
  error: { readonly code: string; readonly message: string },
  result: RunResult,
  reportDir: string,
  counts: Counts,
): XmlElement {
  counts.tests++;
  counts.errors++;
  const text = [
    `Scenario ${scenario.name} stopped early, before any check ran.`,
    `${error.code}: ${error.message}`,
    ...footer(result, reportDir),
  ].join('\n');
  return element(
    'testcase',
    { classname: scenario.name, name: 'scenario', time: seconds(scenario.durationMs) },
    [element('error', { message: `${error.code}: ${error.message}`, type: error.code }, [text])],
  );
}

function suite(
  scenario: ScenarioResult,
  result: RunResult,
  reportDir: string,
  total: Counts,
): XmlElement {
  const counts: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const cases =
    scenario.checks.length === 0 && scenario.error !== null
      ? [scenarioErrorCase(scenario, scenario.error, result, reportDir, counts)]
      : scenario.checks.flatMap((check) =>
          checkCases(scenario, check, defectsOf(scenario), result, reportDir, counts),
        );
  total.tests += counts.tests;
  total.failures += counts.failures;
  total.errors += counts.errors;
  total.skipped += counts.skipped;
  const properties = element('properties', {}, [
    element('property', { name: 'file', value: scenario.file }),
    element('property', { name: 'target', value: scenario.target }),
    element('property', { name: 'profile', value: scenario.profile.name }),
    element('property', { name: 'seed', value: result.seed }),
    element('property', { name: 'replay', value: result.replayCommand }),
    element('property', { name: 'runId', value: result.runId }),
    ...transportProperty(scenario),
  ]);
  const children: XmlNode[] = [properties, ...cases];
  if (scenario.error !== null && scenario.checks.length > 0) {
    children.push(
      element('system-err', {}, [
        `Scenario stopped early: ${scenario.error.code}: ${scenario.error.message}`,
      ]),
    );
  }
  return element(
    'testsuite',
    {
      name: scenario.name,
      tests: counts.tests,
      failures: counts.failures,
      errors: counts.errors,
      skipped: counts.skipped,
      time: seconds(scenario.durationMs),
      timestamp: result.startedAt,
    },
    children,
  );
}

/** The junit.xml document of a run. */
export function junitXml(result: RunResult, reportDir: string): string {
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const suites = result.scenarios.map((scenario) => suite(scenario, result, reportDir, total));
  const cut = stopSentence(
    result,
    result.scenarios.reduce((sum, scenario) => sum + scenario.attempts.total, 0),
  );
  if (cut !== undefined) {
    // A run cut short is an error CI must see, whatever the checks of what ran say.
    total.tests += 1;
    total.errors += 1;
    suites.unshift(
      element(
        'testsuite',
        { name: 'idemproof run', tests: 1, failures: 0, errors: 1, skipped: 0 },
        [
          element(
            'testcase',
            { name: 'run completed', classname: 'idemproof run', time: '0.000' },
            [
              element('error', { message: cut, type: result.stopped?.kind ?? 'stopped' }, [
                [cut, ...footer(result, reportDir)].join('\n'),
              ]),
            ],
          ),
        ],
      ),
    );
  }
  const root = element(
    'testsuites',
    {
      name: 'idemproof',
      tests: total.tests,
      failures: total.failures,
      errors: total.errors,
      skipped: total.skipped,
      time: seconds(result.durationMs),
      timestamp: result.startedAt,
    },
    suites,
  );
  return serialize(root);
}

/**
 * Writes `junit.xml`. Shows nothing while the run goes on.
 *
 * Must not: build XML by string concatenation (the tree in xml.ts escapes once).
 */
export const junitReporter: ReporterFactory = (context): Reporter => ({
  name: 'junit',
  async onEnd(result) {
    return [
      await writeReportFile(context.reportDir, JUNIT_FILE, junitXml(result, context.reportDir)),
    ];
  },
});

/** How the scenario reached its target, and a warning when certificates were not verified. */
function transportProperty(scenario: ScenarioResult): XmlElement[] {
  const transport = scenario.transport ?? null;
  if (transport === null) return [];
  const warning = insecureWarning(transport);
  return [
    element('property', { name: 'transport', value: transportLine(transport) }),
    ...(warning === undefined ? [] : [element('property', { name: 'warning', value: warning })]),
  ];
}
