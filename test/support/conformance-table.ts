import type { ScenarioResult } from '../../src/run/result.js';

/**
 * The table of docs/conformance.md: each conformance scenario's source vector, its file and
 * its result on the demo target, worded from the run's checks so it is the same on every run.
 */

export interface ConformanceRow {
  readonly vector: string;
  readonly file: string;
  readonly result: string;
}

const START = '<!-- conformance-table:start -->';
const END = '<!-- conformance-table:end -->';

/** "step 2 (duplicate): expected 409, got 200" for a step; "checker (kinds)" otherwise. */
function violations(scenario: ScenarioResult): string[] {
  return scenario.checks
    .filter((check) => check.valid === false)
    .flatMap((check) => {
      if (check.checker !== 'stepExpectations') {
        const kinds = [...new Set(check.anomalies.map((anomaly) => anomaly.kind))];
        return [`${check.checker} (${kinds.join(', ')})`];
      }
      return check.anomalies.map((anomaly) => {
        const step = /step \d+ \([^)]*\)/.exec(anomaly.message)?.[0] ?? 'a step';
        return `${step}: expected ${anomaly.expected}, got ${anomaly.actual}`;
      });
    });
}

export function resultOfScenario(scenario: ScenarioResult): ConformanceRow {
  const file = scenario.file.slice(scenario.file.lastIndexOf('/') + 1);
  const vector = scenario.name.replace(/^anyonce /, '').replace(/^idempot\.dev: /, 'Gherkin: ');
  if (scenario.error !== null) return { vector, file, result: `error: ${scenario.error.code}` };
  if (scenario.valid === true) return { vector, file, result: 'pass' };
  if (scenario.valid === 'unknown') {
    const unknown = scenario.checks.filter((check) => check.valid === 'unknown');
    return {
      vector,
      file,
      result: `unknown: ${unknown.map((check) => `${check.checker} (${check.notes.join(' ')})`).join('; ')}`,
    };
  }
  return { vector, file, result: `fail: ${violations(scenario).join('; ')}` };
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * The table as markdown; `folder` is the link to scenarios/conformance/ from the page the table
 * is on (docs/conformance.md by default; the README links from the project's root).
 */
export function conformanceTable(
  rows: readonly ConformanceRow[],
  folder = '../scenarios/conformance/',
): string {
  const sorted = [...rows].sort((a, b) => a.file.localeCompare(b.file));
  return [
    '| Vector | File | Result on the demo |',
    '| --- | --- | --- |',
    ...sorted.map(
      (row) =>
        `| ${cell(row.vector)} | [${row.file}](${folder}${row.file}) | ${cell(row.result)} |`,
    ),
  ].join('\n');
}

/**
 * A markdown table's rows as trimmed cells, without the separator row: the same however a
 * formatter pads the columns.
 */
export function tableCells(table: string): string[][] {
  return table
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('|') && !/^\|[\s:|-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((part) => part.trim()),
    );
}

/** The anyonce vectors (core and profile), the ones the README's table lists. */
export function isAnyonceRow(row: ConformanceRow): boolean {
  return /^(core|profile)-/.test(row.file);
}

/** The table between the markers of a page (docs/conformance.md, README.md). */
export function tableInDoc(text: string, page = 'docs/conformance.md'): string {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${page} has no ${START} … ${END}`);
  return text.slice(start + START.length, end).trim();
}
