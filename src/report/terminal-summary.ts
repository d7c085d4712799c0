import { join } from 'node:path';
import type { CheckResult } from '../check/types.js';
import { capitalize } from '../check/wording.js';
import {
  defectCountText,
  heldLine,
  othersLine,
  reproducedLine,
  runDefects,
  scenariosText,
  showingOrder,
  symptomLine,
} from './defect-view.js';
import type { RunDefect } from '../check/defects.js';
import type { RunResult, ScenarioResult } from '../run/result.js';
import { clip, showControls } from './printable.js';
import { insecureWarning } from './transport-text.js';
import {
  type CheckStatus,
  checkStatus,
  checkerNames,
  formatDuration,
  plural,
  STATUS_SYMBOL,
  verdictOf,
  type VerdictState,
} from './verdict.js';

/**
 * The one-screen summary printed when a run ends: verdict, scenarios × checks table, the
 * distinct defects (grouped violations), each with its count, how often it reproduced, its first
 * violation in full with what to paste to reproduce it, its symptoms with their counts and keys,
 * and where the full report is. Pure: returns lines; the terminal reporter writes them.
 *
 * Every string from the run goes through `showControls` first, so a hostile message cannot
 * move the cursor, recolour the terminal or hide text.
 */

/** Defects shown in full; the rest are counted. */
export const SHOWN_DEFECTS = 5;
const SHOWN_UNDECIDED = 3;
/** Wider tables get numbered columns and a legend. */
const MAX_TABLE_WIDTH = 120;

export interface SummaryStyle {
  /** ANSI colours. */
  readonly color: boolean;
}

type Tone = 'bold' | 'red' | 'green' | 'yellow' | 'dim';
const ANSI: Readonly<Record<Tone, string>> = {
  bold: '\u001b[1m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  dim: '\u001b[2m',
};
const RESET = '\u001b[0m';

function paint(style: SummaryStyle, tones: readonly Tone[], text: string): string {
  if (!style.color || tones.length === 0 || text === '') return text;
  return `${tones.map((tone) => ANSI[tone]).join('')}${text}${RESET}`;
}

const STATUS_TONE: Readonly<Record<CheckStatus, Tone>> = {
  pass: 'green',
  fail: 'red',
  unknown: 'yellow',
  'not-applicable': 'dim',
};

const VERDICT_TONE: Readonly<Record<VerdictState, Tone>> = {
  pass: 'green',
  fail: 'red',
  unknown: 'yellow',
};

/** One-line text from the run, safe for a terminal. */
function line(text: string): string {
  return showControls(text, 'none');
}

function width(text: string): number {
  return Array.from(text).length;
}

function pad(text: string, size: number): string {
  return text + ' '.repeat(Math.max(0, size - width(text)));
}

function attemptsLine(result: RunResult, scenarios: readonly ScenarioResult[]): string {
  let total = 0;
  let info = 0;
  let fail = 0;
  for (const scenario of scenarios) {
    total += scenario.attempts.total;
    info += scenario.attempts.info;
    fail += scenario.attempts.fail;
  }
  const detail = [
    info > 0 ? `${info} outcome unknown` : null,
    fail > 0 ? `${fail} not sent` : null,
  ].filter((part) => part !== null);
  return `${plural(scenarios.length, 'scenario')} · ${plural(total, 'attempt')}${
    detail.length > 0 ? ` (${detail.join(', ')})` : ''
  } · ${formatDuration(result.durationMs)}`;
}

function table(scenarios: readonly ScenarioResult[], style: SummaryStyle): string[] {
  const checkers = checkerNames(scenarios);
  const names = scenarios.map((scenario) => clip(line(scenario.name), 32));
  const nameWidth = Math.max(width('scenario'), ...names.map(width));
  let headers = checkers.map((checker) => line(checker));
  const fullWidth = nameWidth + headers.reduce((sum, header) => sum + width(header) + 2, 0);
  const numbered = fullWidth > MAX_TABLE_WIDTH;
  if (numbered) headers = checkers.map((_, index) => String(index + 1));
  const widths = headers.map((header) => Math.max(width(header), 1));
  const rows = [
    paint(
      style,
      ['bold'],
      [pad('scenario', nameWidth), ...headers.map((h, i) => pad(h, widths[i] ?? 1))]
        .join('  ')
        .trimEnd(),
    ),
  ];
  scenarios.forEach((scenario, index) => {
    const byName = new Map<string, CheckResult>();
    for (const check of scenario.checks)
      if (!byName.has(check.checker)) byName.set(check.checker, check);
    const cells = checkers.map((checker, column) => {
      const check = byName.get(checker);
      const size = widths[column] ?? 1;
      if (check === undefined) return ' '.repeat(size);
      const status = checkStatus(check);
      return paint(style, [STATUS_TONE[status]], STATUS_SYMBOL[status]) + ' '.repeat(size - 1);
    });
    const note =
      scenario.error === null
        ? ''
        : paint(style, ['yellow'], `stopped early: ${line(scenario.error.code)}`);
    rows.push([pad(names[index] ?? '', nameWidth), ...cells, note].join('  ').trimEnd());
  });
  const legend = `${STATUS_SYMBOL.pass} holds  ${STATUS_SYMBOL.fail} violated  ${STATUS_SYMBOL.unknown} unknown  ${STATUS_SYMBOL['not-applicable']} not applicable`;
  if (numbered) {
    rows.push(
      paint(style, ['dim'], checkers.map((checker, i) => `${i + 1} ${line(checker)}`).join(' · ')),
    );
  }
  rows.push(paint(style, ['dim'], legend));
  return rows;
}

/**
 * Lines of one defect: its title and count, the first violation in full, then its symptoms (one
 * line each, with their counts and keys) or, for a defect of one symptom, the other keys.
 */
function defectLines(
  result: RunResult,
  defect: RunDefect,
  position: number,
  style: SummaryStyle,
): string[] {
  const anomaly = defect.first;
  const where = [
    line(defect.scenarios[0] ?? ''),
    line(defect.signature.checker),
    anomaly.key === null ? null : `key ${line(anomaly.key)}`,
    anomaly.tenant === null ? null : `tenant ${line(anomaly.tenant)}`,
  ].filter((part) => part !== null);
  const reproduced = reproducedLine(result, defect);
  const [lead] = defect.symptoms;
  const others = defect.symptoms.length === 1 && lead !== undefined ? othersLine(lead) : undefined;
  const lines = [
    `${paint(style, ['red'], STATUS_SYMBOL.fail)} ${paint(style, ['bold'], `${position}. ${line(defect.title)}`)} · ${plural(defect.count, 'violation')}`,
    `  ${line(scenariosText(defect))}${reproduced === undefined ? '' : ` · ${paint(style, ['bold'], line(reproduced))}`}`,
    `  first: ${where.join(' · ')}`,
    `  ${line(anomaly.message)}`,
    `  expected: ${line(anomaly.expected)}`,
    `  actual:   ${line(anomaly.actual)}`,
  ];
  // A curl command may span lines (a pretty-printed body); LF is kept so it pastes as sent.
  if (anomaly.curl !== undefined)
    lines.push(`  curl:     ${showControls(anomaly.curl, 'newlines')}`);
  if (others !== undefined) lines.push(paint(style, ['dim'], `  ${line(others)}`));
  if (defect.symptoms.length > 1) {
    lines.push(`  ${plural(defect.symptoms.length, 'symptom')}:`);
    for (const symptom of defect.symptoms) lines.push(`  - ${line(symptomLine(symptom))}`);
  }
  return lines;
}

function undecidedLines(scenarios: readonly ScenarioResult[], style: SummaryStyle): string[] {
  const items: string[] = [];
  for (const scenario of scenarios) {
    if (scenario.error !== null) {
      items.push(
        `${paint(style, ['yellow'], '!')} ${line(scenario.name)} stopped early: ${line(scenario.error.code)}: ${line(scenario.error.message)}`,
      );
    }
  }
  for (const scenario of scenarios) {
    for (const check of scenario.checks) {
      if (checkStatus(check) !== 'unknown') continue;
      const reason =
        check.notes[0] ??
        (scenario.error === null ? 'no reason given' : 'the scenario stopped early');
      items.push(
        `${paint(style, ['yellow'], STATUS_SYMBOL.unknown)} ${line(scenario.name)} · ${line(check.checker)}: ${line(reason)}`,
      );
    }
  }
  if (items.length === 0) return [];
  const shown = items.slice(0, SHOWN_UNDECIDED);
  if (items.length > shown.length)
    shown.push(`… ${items.length - shown.length} more in the HTML report`);
  return ['', paint(style, ['bold'], 'Undecided:'), ...shown];
}

/** The summary's lines, without trailing newlines. */
export function summaryLines(result: RunResult, reportDir: string, style: SummaryStyle): string[] {
  const [headline = '', ...findings] = verdictLines(result, reportDir, style);
  const lines = [headline, attemptsLine(result, result.scenarios)];
  for (const scenario of result.scenarios) {
    const warning = insecureWarning(scenario.transport);
    if (warning !== undefined)
      lines.push(
        `${paint(style, ['bold', 'yellow'], '!')} ${line(scenario.name)}: ${line(warning)}`,
      );
  }
  if (result.scenarios.length > 0) lines.push('', ...table(result.scenarios, style));
  return [...lines, ...findings];
}

/**
 * The summary without its counts and table: the verdict, the violations, the undecided checks,
 * the replay command and the report. A failed `toBeIdempotent()` (idemproof/vitest) shows these.
 */
export function verdictLines(result: RunResult, reportDir: string, style: SummaryStyle): string[] {
  const verdict = verdictOf(result);
  const scenarios = result.scenarios;
  const lines = [paint(style, ['bold', VERDICT_TONE[verdict.state]], verdict.headline)];
  const defects = showingOrder(runDefects(result));
  const shown = defects.slice(0, SHOWN_DEFECTS);
  if (shown.length > 0) {
    const { tally } = verdict;
    lines.push(
      '',
      paint(style, ['bold'], `Defects: ${defectCountText(tally.defects, tally.violations)}`),
    );
    shown.forEach((defect, index) => lines.push(...defectLines(result, defect, index + 1, style)));
    if (defects.length > shown.length) {
      lines.push(`… ${plural(defects.length - shown.length, 'more defect')} in the HTML report`);
    }
  }
  const held = heldLine(result);
  if (held !== undefined) {
    // A check held when it held wherever it applied: in no scenario violated or undecided.
    const holding = checkerNames(scenarios).filter((checker) => {
      const statuses = scenarios.flatMap((scenario) =>
        scenario.checks.filter((check) => check.checker === checker).map(checkStatus),
      );
      return (
        statuses.includes('pass') && statuses.every((s) => s === 'pass' || s === 'not-applicable')
      );
    });
    if (holding.length > 0)
      lines.push(
        '',
        `${paint(style, ['green'], STATUS_SYMBOL.pass)} ${capitalize(held)}: ${holding.map(line).join(', ')}`,
      );
  }
  lines.push(...undecidedLines(scenarios, style));
  lines.push(
    '',
    `seed ${result.seed} · replay: ${showControls(result.replayCommand, 'none')}`,
    `report: ${showControls(join(reportDir, 'index.html'), 'none')}`,
  );
  return lines;
}
