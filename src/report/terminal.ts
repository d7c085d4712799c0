import { clip, showControls } from './printable.js';
import { summaryLines } from './terminal-summary.js';
import type { ReportContext, Reporter, ReporterFactory, RunProgress } from './types.js';

/** The whole progress line stays within this many columns. */
export const PROGRESS_WIDTH = 60;
const BAR_CELLS = 20;
/** At most one redraw per this many ms (the last one, done = total, always draws). */
export const PROGRESS_INTERVAL_MS = 100;

export interface TerminalOptions {
  /** Read for NO_COLOR; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A clock for throttling the progress bar; defaults to Date.now. */
  readonly now?: () => number;
}

/** "▕████░░░░▏ 42/120 attempts · scenario name", cut to PROGRESS_WIDTH columns. */
export function progressLine(progress: RunProgress): string {
  const total = Math.max(0, progress.total);
  const done = Math.min(Math.max(0, progress.done), total);
  const filled = total === 0 ? 0 : Math.round((BAR_CELLS * done) / total);
  const head = `▕${'█'.repeat(filled)}${'░'.repeat(BAR_CELLS - filled)}▏ ${progress.done}/${progress.total} attempts`;
  const room = PROGRESS_WIDTH - Array.from(head).length - 3;
  const name = showControls(progress.scenario, 'none');
  return room > 1 && name !== '' ? `${head} · ${clip(name, room)}` : head;
}

/**
 * The terminal reporter. While the run goes on, and only when stderr is a TTY, it redraws one
 * progress line on stderr with `\r`. When the run ends it clears that line and prints the
 * summary on stdout. ANSI colours only when interactive and NO_COLOR is unset or empty.
 *
 * `context.err` must write its text as given (no newline added), or each redraw becomes a new
 * line; `context.out` writes lines, so the summary goes out as one block without a final newline.
 *
 * Must not: print during a non-interactive run (CI logs stay clean), write files, or put raw
 * text from the run on the terminal (control characters are made visible).
 */
export function createTerminalReporter(
  context: ReportContext,
  options: TerminalOptions = {},
): Reporter {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const color = context.interactive && !noColor;
  let drawnWidth = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;

  function draw(progress: RunProgress): void {
    const text = progressLine(progress);
    const size = Array.from(text).length;
    context.err(`\r${text}${' '.repeat(Math.max(0, drawnWidth - size))}`);
    drawnWidth = Math.max(drawnWidth, size);
    lastDraw = now();
  }

  function clear(): void {
    if (drawnWidth === 0) return;
    context.err(`\r${' '.repeat(drawnWidth)}\r`);
    drawnWidth = 0;
  }

  return {
    name: 'terminal',
    onStart(info) {
      if (!context.interactive) return;
      draw({ scenario: '', done: 0, total: info.total });
    },
    onProgress(progress) {
      if (!context.interactive) return;
      const finished = progress.done >= progress.total;
      if (!finished && now() - lastDraw < PROGRESS_INTERVAL_MS) return;
      draw(progress);
    },
    onEnd(result) {
      clear();
      // `out` writes lines: the summary goes as one block, without a final newline.
      context.out(summaryLines(result, context.reportDir, { color }).join('\n'));
      return Promise.resolve([]);
    },
  };
}

export const terminalReporter: ReporterFactory = (context) => createTerminalReporter(context);
