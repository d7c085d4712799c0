import type { HistoryEvent } from '../history/events.js';
import type { RunResult } from '../run/result.js';

/** Progress while a run goes on, for reporters that show it (the terminal's progress bar). */
export interface RunProgress {
  readonly scenario: string;
  /** Attempts finished so far and planned in all, over the whole run. */
  readonly done: number;
  readonly total: number;
}

export interface ReportContext {
  /** The folder this run's reports go to (exists when `onEnd` is called). */
  readonly reportDir: string;
  /** Writes lines to the terminal (stdout for results, stderr for progress). */
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** True when stderr is a TTY, so a live progress bar may redraw one line. */
  readonly interactive: boolean;
}

/**
 * A reporter formats a finished run (and may show progress while it runs). One file each;
 * they are optional hooks, looked up by name in `report/registry.ts`.
 *
 * Must not: change the result or the history, or throw past the multiplexer (a failing
 * reporter is reported and the others still run).
 */
export interface Reporter {
  readonly name: string;
  onStart?(info: {
    readonly runId: string;
    readonly scenarios: number;
    readonly total: number;
  }): void;
  onProgress?(progress: RunProgress): void;
  /** Writes the report; returns the paths of files written, if any. */
  onEnd(result: RunResult, history: readonly HistoryEvent[]): Promise<readonly string[]>;
}

export type ReporterFactory = (context: ReportContext) => Reporter;
