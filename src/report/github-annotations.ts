import { join } from 'node:path';
import type { RunDefect } from '../check/defects.js';
import type { CheckResult } from '../check/types.js';
import {
  firstScenario,
  othersLine,
  reproducedLine,
  runDefects,
  scenariosText,
  showingOrder,
  symptomLine,
} from './defect-view.js';
import type { RunResult, ScenarioResult } from '../run/result.js';
import { clip, showControls } from './printable.js';
import { checkStatus, plural, verdictOf } from './verdict.js';

/**
 * The `::error` and `::warning` workflow commands of the GitHub reporter: one per defect
 * (grouped violations), escaped by GitHub's rules, capped so a storm of defects cannot flood
 * the log.
 */

/** Defects listed in the summary, and `::error` annotations, before "and N more". */
export const SHOWN_VIOLATIONS = 50;
/** Characters of one field (a message, an expected or actual value) shown. */
export const FIELD_CHARS = 1000;

/** A defect of a violated check, or the check alone when it recorded no anomaly. */
export interface Violation {
  readonly scenario: ScenarioResult;
  readonly check: CheckResult;
  readonly defect: RunDefect | undefined;
}

/**
 * The violated checks that recorded no anomaly, then every defect of the run (with the scenario
 * and check of its first violation), so a cap hides no check.
 */
export function violationsOf(result: RunResult): Violation[] {
  const violations: Violation[] = [];
  for (const scenario of result.scenarios) {
    for (const check of scenario.checks) {
      if (checkStatus(check) === 'fail' && check.anomalies.length === 0)
        violations.push({ scenario, check, defect: undefined });
    }
  }
  for (const defect of showingOrder(runDefects(result))) {
    const scenario = firstScenario(result, defect);
    const check = scenario?.checks.find((one) => one.checker === defect.signature.checker);
    if (scenario !== undefined && check !== undefined) violations.push({ scenario, check, defect });
  }
  return violations;
}

/**
 * The lines that tell a defect: title and count, reproduction, first violation, then its
 * symptoms with their counts and keys (or, with one symptom, the other keys).
 */
export function defectSummaryLines(result: RunResult, defect: RunDefect): string[] {
  const anomaly = defect.first;
  const reproduced = reproducedLine(result, defect);
  const [lead] = defect.symptoms;
  const others = defect.symptoms.length === 1 && lead !== undefined ? othersLine(lead) : undefined;
  return [
    `${defect.title} · ${plural(defect.count, 'violation')} ${scenariosText(defect)}`,
    ...(reproduced === undefined ? [] : [reproduced]),
    anomaly.message,
    [
      anomaly.kind,
      anomaly.key === null ? 'no key' : `key ${anomaly.key}`,
      anomaly.tenant === null ? null : `tenant ${anomaly.tenant}`,
    ]
      .filter((part) => part !== null)
      .join(' · '),
    `expected: ${anomaly.expected}`,
    `actual: ${anomaly.actual}`,
    ...(others === undefined ? [] : [others]),
    ...(defect.symptoms.length > 1
      ? [
          `${plural(defect.symptoms.length, 'symptom')}:`,
          ...defect.symptoms.map((symptom) => `- ${symptomLine(symptom)}`),
        ]
      : []),
  ];
}

export function noAnomaly(check: CheckResult): string {
  return `${check.checker} is violated (no anomaly was recorded)`;
}

// ---------------------------------------------------------------- workflow commands

/** Escapes a workflow command's message as GitHub's toolkit does. */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command's property value (`title=`, `file=`): also `:` and `,`. */
export function escapeCommandProperty(text: string): string {
  return escapeCommandData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Text from the run made visible (controls but tab, LF and CR) and cut to FIELD_CHARS. */
function visible(text: string): string {
  return clip(showControls(text, 'lines'), FIELD_CHARS);
}

function workflowCommand(
  command: 'error' | 'warning',
  properties: Readonly<Record<string, string | undefined>>,
  message: string,
): string {
  const props = Object.entries(properties)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => `${name}=${escapeCommandProperty(visible(value))}`)
    .join(',');
  return `::${command}${props === '' ? '' : ` ${props}`}::${escapeCommandData(message)}`;
}

function violationAnnotation(result: RunResult, { scenario, check, defect }: Violation): string {
  const lines = defect === undefined ? [noAnomaly(check)] : defectSummaryLines(result, defect);
  return workflowCommand(
    'error',
    { file: scenario.file, title: `${scenario.name} · ${check.checker}` },
    lines.map(visible).join('\n'),
  );
}

/**
 * The workflow commands for a run: a `::warning` when the verdict is unknown or the run was cut
 * short, then one `::error` per defect, at most `max`, then one saying how many more.
 */
export function githubAnnotations(
  result: RunResult,
  reportDir: string,
  max: number = SHOWN_VIOLATIONS,
): string[] {
  const verdict = verdictOf(result);
  const lines: string[] = [];
  if ((result.stopped ?? null) !== null || verdict.state === 'unknown') {
    lines.push(
      workflowCommand('warning', { title: `idemproof ${verdict.word}` }, visible(verdict.headline)),
    );
  }
  const violations = violationsOf(result);
  lines.push(
    ...violations.slice(0, max).map((violation) => violationAnnotation(result, violation)),
  );
  if (violations.length > max) {
    lines.push(
      workflowCommand(
        'error',
        { title: 'idemproof' },
        visible(
          `${plural(violations.length - max, 'more defect')} not annotated; every one is in the report: ${join(reportDir, 'index.html')}`,
        ),
      ),
    );
  }
  return lines;
}

// ---------------------------------------------------------------- Markdown
