import { joinHtml, markup, type SafeHtml } from './html-escape.js';
import { showControls } from './printable.js';

/** Number and text formats shared by the HTML page's parts. */

/** Milliseconds since the run started, or a duration: "0.8 ms", "125 ms", "12.40 s". */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '?';
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(2)} s`;
  if (Math.abs(value) >= 100) return `${Math.round(value)} ms`;
  return `${Number(value.toFixed(1))} ms`;
}

/** The smallest difference `ms` shows at this size: 10 ms, 1 ms or 0.1 ms. */
export function msResolution(value: number): number {
  const size = Math.abs(value);
  return size >= 10_000 ? 10 : size >= 100 ? 1 : 0.1;
}

/** A "nice" step (1, 2 or 5 × 10^k) so that `range` spans about `count` steps. */
export function niceStep(range: number, count: number): number {
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  const raw = range / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Rounds an SVG coordinate to one decimal, so the markup stays small. */
export function px(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10) / 10 : 0;
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/**
 * Chart text (`svg.chart` in html-styles.ts) is 11 px monospace; 0.62 em is at least the advance
 * of the fonts it names (DejaVu Sans Mono and Menlo 0.60 em, Consolas 0.55 em). Text is measured
 * in columns of that width, since no script runs to measure it in the browser.
 */
export const CHART_COLUMN_PX = 11 * 0.62;

const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const COMBINING = /^\p{M}$/u;

/** Monospace columns of one character: 2 for wide ones (CJK, fullwidth, emoji), 0 for marks. */
function columnsOf(char: string): number {
  if (COMBINING.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Monospace columns of text as the page shows it (control characters as ⟨U+XXXX⟩). */
export function textColumns(text: string): number {
  let columns = 0;
  for (const char of showControls(text)) columns += columnsOf(char);
  return columns;
}

/**
 * Text as the page shows it (control characters as ⟨U+XXXX⟩), cut to `columns` monospace
 * columns with an ellipsis when it is wider; `cut` says whether it was.
 */
export function fitColumns(text: string, columns: number): { text: string; cut: boolean } {
  const shown = showControls(text);
  if (textColumns(shown) <= columns) return { text: shown, cut: false };
  let out = '';
  let used = 0;
  for (const char of shown) {
    const width = columnsOf(char);
    if (used + width > columns - 1) break;
    out += char;
    used += width;
  }
  return { text: `${out}…`, cut: true };
}

/**
 * A name with a line-break opportunity (`<wbr>`) inside camelCase and after - _ . /, so that
 * `distinctKeysDistinctEffects` can wrap in a narrow table header instead of widening it.
 */
export function breakable(name: string): SafeHtml {
  return joinHtml(name.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[-_./])(?=[^-_./])/), markup`<wbr>`);
}
