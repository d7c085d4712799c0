import { appendFile, stat } from 'node:fs/promises';
import type { CheckResult } from '../check/types.js';
import { IdemproofError } from '../errors.js';
import type { RunResult, ScenarioResult } from '../run/result.js';
import {
  defectCountText,
  heldLine,
  othersLine,
  reproducedLine,
  scenariosText,
  symptomLine,
} from './defect-view.js';
import { clip, showControls } from './printable.js';
import {
  checkerNames,
  checkStatus,
  formatDuration,
  plural,
  STATUS_SYMBOL,
  STATUS_WORD,
  verdictOf,
} from './verdict.js';
import {
  FIELD_CHARS,
  noAnomaly,
  SHOWN_VIOLATIONS,
  violationsOf,
  type Violation,
} from './github-annotations.js';

/**
 * The Markdown step summary of the GitHub reporter: verdict, scenarios × checks, defects (each
 * with its first violation and its symptoms), undecided checks, seed, replay command and report folder, escaped so nothing from the target
 * starts a Markdown construct or an HTML tag, and cut to fit GitHub's limit.
 */

/** GitHub's limit for one step's summary. */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024;
const SHOWN_UNDECIDED = 20;
/** Below this much room left in the step summary, the summary is not written at all. */
const MIN_SUMMARY_BYTES = 1024;

/**
 * Run text as one line of Markdown that shows as itself: controls (LF included) made visible,
 * `&`, `<` and `>` as entities (no HTML), and the punctuation of inline Markdown, tables,
 * mentions, emoji and math backslash-escaped. It is never at the start of a line, so line-start
 * syntax (`#`, `-`, `1.`, `>`) cannot apply.
 */
export function markdownText(text: string, max: number = FIELD_CHARS): string {
  return clip(showControls(text, 'none'), max)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_~[\]()!|$:@#]/g, (char) => `\\${char}`);
}

function longestBacktickRun(text: string): number {
  return (text.match(/`+/g) ?? []).reduce((longest, run) => Math.max(longest, run.length), 0);
}

/** Run text as a code span, fenced with more backticks than it holds. */
export function markdownCode(text: string): string {
  const shown = showControls(text, 'none');
  const fence = '`'.repeat(longestBacktickRun(shown) + 1);
  // CommonMark strips one space on each side, so the text keeps leading or trailing backticks.
  return `${fence} ${shown} ${fence}`;
}

function tableRows(scenarios: readonly ScenarioResult[]): string[] {
  const checkers = checkerNames(scenarios);
  const rows = [
    `| scenario | ${checkers.map((checker) => markdownText(checker, 60)).join(' | ')} |\n`,
    `| --- | ${checkers.map(() => ':-:').join(' | ')} |\n`,
  ];
  for (const scenario of scenarios) {
    const byName = new Map<string, CheckResult>();
    for (const check of scenario.checks)
      if (!byName.has(check.checker)) byName.set(check.checker, check);
    const cells = checkers.map((checker) => {
      const check = byName.get(checker);
      return check === undefined ? ' ' : STATUS_SYMBOL[checkStatus(check)];
    });
    const note =
      scenario.error === null ? '' : ` (stopped early: ${markdownText(scenario.error.code, 80)})`;
    rows.push(`| ${markdownText(scenario.name, 100)}${note} | ${cells.join(' | ')} |\n`);
  }
  return rows;
}

function violationBlock(
  result: RunResult,
  { scenario, check, defect }: Violation,
  position: number,
): string {
  const head = `\n**${position}. ${markdownText(scenario.name, 100)} · ${markdownText(check.checker, 60)}`;
  if (defect === undefined) return `${head}**\n\n- ${markdownText(noAnomaly(check))}\n`;
  const anomaly = defect.first;
  const where = [
    markdownText(anomaly.kind, 80),
    anomaly.key === null ? 'no key' : `key ${markdownCode(clip(anomaly.key, 200))}`,
    anomaly.tenant === null ? null : `tenant ${markdownCode(clip(anomaly.tenant, 200))}`,
  ].filter((part) => part !== null);
  const reproduced = reproducedLine(result, defect);
  const [lead] = defect.symptoms;
  const others =
    defect.symptoms.length === 1 && lead !== undefined ? othersLine(lead, 10) : undefined;
  const symptoms =
    defect.symptoms.length === 1
      ? []
      : [
          `- ${plural(defect.symptoms.length, 'symptom')}:\n`,
          ...defect.symptoms.map(
            (symptom) => `  - ${markdownText(symptomLine(symptom, 5), 400)}\n`,
          ),
        ];
  return [
    `${head}: ${markdownText(defect.title, 200)}** · ${plural(defect.count, 'violation')} ${markdownText(scenariosText(defect), 300)}\n\n`,
    reproduced === undefined ? '' : `- **${markdownText(reproduced)}**\n`,
    `- first: ${where.join(' · ')}\n`,
    `- ${markdownText(anomaly.message)}\n`,
    `- **expected:** ${markdownText(anomaly.expected)}\n`,
    `- **actual:** ${markdownText(anomaly.actual)}\n`,
    others === undefined ? '' : `- ${markdownText(others)}\n`,
    ...symptoms,
  ].join('');
}

function undecidedItems(scenarios: readonly ScenarioResult[]): string[] {
  const items: string[] = [];
  for (const scenario of scenarios) {
    if (scenario.error !== null)
      items.push(
        `- ${markdownText(scenario.name, 100)} stopped early: ${markdownText(scenario.error.code, 80)}: ${markdownText(scenario.error.message)}\n`,
      );
  }
  for (const scenario of scenarios) {
    for (const check of scenario.checks) {
      if (checkStatus(check) !== 'unknown') continue;
      const reason = check.notes[0] ?? 'no reason given';
      items.push(
        `- ${markdownText(scenario.name, 100)} · ${markdownText(check.checker, 60)}: ${markdownText(reason)}\n`,
      );
    }
  }
  return items;
}

interface SummaryParts {
  /** Always written. */
  readonly head: string;
  /** Written in order while they fit. */
  readonly body: readonly string[];
  /** Always written. */
  readonly tail: string;
}

function summaryParts(result: RunResult, reportDir: string): SummaryParts {
  const verdict = verdictOf(result);
  const { tally } = verdict;
  const head = [
    `\n## ${STATUS_SYMBOL[verdict.state]} idemproof: ${verdict.word}\n\n`,
    `**${markdownText(verdict.headline, 4 * FIELD_CHARS)}**\n\n`,
    `${plural(tally.scenarios, 'scenario')} · ${plural(tally.attempts, 'attempt')} · ${formatDuration(result.durationMs)}\n`,
  ].join('');
  const body: string[] = [];
  if (result.scenarios.length > 0) {
    const legend = (['pass', 'fail', 'unknown', 'not-applicable'] as const)
      .map((status) => `${STATUS_SYMBOL[status]} ${STATUS_WORD[status]}`)
      .join(' · ');
    body.push(`\n${legend}\n\n`, ...tableRows(result.scenarios));
  }
  const violations = violationsOf(result);
  const shown = violations.slice(0, SHOWN_VIOLATIONS);
  if (shown.length > 0) {
    body.push(`\n### Defects: ${defectCountText(tally.defects, tally.violations)}\n`);
    body.push(...shown.map((violation, index) => violationBlock(result, violation, index + 1)));
    if (violations.length > shown.length)
      body.push(`\n… and ${plural(violations.length - shown.length, 'more defect')}\n`);
  }
  const held = heldLine(result);
  if (held !== undefined && tally.passed > 0)
    body.push(`\n${STATUS_SYMBOL.pass} ${plural(tally.passed, 'check')} ${markdownText(held)}\n`);
  const undecided = undecidedItems(result.scenarios);
  if (undecided.length > 0) {
    body.push('\n### Undecided\n\n', ...undecided.slice(0, SHOWN_UNDECIDED));
    if (undecided.length > SHOWN_UNDECIDED)
      body.push(`- … and ${undecided.length - SHOWN_UNDECIDED} more\n`);
  }
  const tail = [
    `\nseed ${result.seed} · replay:\n\n`,
    codeBlock(result.replayCommand),
    `\nreport folder: ${markdownCode(reportDir)} (open ${markdownCode('index.html')}; keep it as a workflow artifact)\n`,
  ].join('');
  return { head, body, tail };
}

/** Run text as a one-line fenced code block. */
function codeBlock(text: string): string {
  const shown = showControls(text, 'none');
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(shown) + 1));
  return `${fence}sh\n${shown}\n${fence}\n`;
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The Markdown summary of a run, at most `maxBytes` long: the verdict and the replay command
 * always; the table, violations and undecided checks while they fit, then a line saying the
 * summary was cut. Empty when not even the verdict and the replay command fit.
 */
export function githubSummary(
  result: RunResult,
  reportDir: string,
  maxBytes: number = STEP_SUMMARY_LIMIT_BYTES,
): string {
  const { head, body, tail } = summaryParts(result, reportDir);
  const whole = head + body.join('') + tail;
  if (bytes(whole) <= maxBytes) return whole;
  const cut = `\n> The summary was cut here to stay under GitHub's ${Math.floor(STEP_SUMMARY_LIMIT_BYTES / 1024)} KiB step-summary limit; everything is in the report.\n`;
  let used = bytes(head) + bytes(cut) + bytes(tail);
  if (used > maxBytes) return '';
  let kept = head;
  for (const part of body) {
    const size = bytes(part);
    if (used + size > maxBytes) break;
    used += size;
    kept += part;
  }
  return kept + cut + tail;
}

/** Appends the summary to the step-summary file, within what GitHub's limit leaves. */
export async function appendSummary(
  path: string,
  result: RunResult,
  reportDir: string,
): Promise<void> {
  const existing = await stat(path).then(
    (stats) => stats.size,
    () => 0,
  );
  const room = STEP_SUMMARY_LIMIT_BYTES - existing;
  const text = room >= MIN_SUMMARY_BYTES ? githubSummary(result, reportDir, room) : '';
  if (text === '') {
    throw new IdemproofError(
      'IDEMPROOF_ERR_REPORT',
      `the GitHub step summary ${path} already holds ${existing} bytes, too close to GitHub's limit for the idemproof summary`,
    );
  }
  await appendFile(path, text, 'utf8');
}
