import type { Reporter } from './types.js';

/** Told about a reporter whose hook threw; `hook` is "onStart", "onProgress" or "onEnd". */
export type ReporterErrorHandler = (reporter: string, error: unknown, hook?: string) => void;

/**
 * One reporter that forwards every hook to all of `reporters`, in order. A hook that throws
 * (or an onEnd that rejects) is passed to `onError(reporterName, error)` and the others still
 * run. A reporter whose onProgress threw is not called for progress again (one report, not one
 * per attempt), but still gets onEnd. onEnd runs every reporter's onEnd concurrently and
 * returns all the files they wrote, in reporter order.
 *
 * Must not: throw, whatever the reporters or `onError` do.
 */
export function multiplexReporters(
  reporters: readonly Reporter[],
  onError: ReporterErrorHandler,
): Reporter {
  const progressBroken = new Set<Reporter>();

  function report(reporter: Reporter, error: unknown, hook: string): void {
    try {
      onError(reporter.name, error, hook);
    } catch {
      // The error handler itself failed: nothing sensible is left to tell.
    }
  }

  return {
    name: reporters.map((reporter) => reporter.name).join('+') || 'none',
    onStart(info) {
      for (const reporter of reporters) {
        try {
          reporter.onStart?.(info);
        } catch (error) {
          report(reporter, error, 'onStart');
        }
      }
    },
    onProgress(progress) {
      for (const reporter of reporters) {
        if (progressBroken.has(reporter)) continue;
        try {
          reporter.onProgress?.(progress);
        } catch (error) {
          progressBroken.add(reporter);
          report(reporter, error, 'onProgress');
        }
      }
    },
    async onEnd(result, history) {
      const settled = await Promise.allSettled(
        reporters.map(async (reporter) => reporter.onEnd(result, history)),
      );
      const files: string[] = [];
      settled.forEach((outcome, index) => {
        const reporter = reporters[index];
        if (reporter === undefined) return;
        if (outcome.status === 'fulfilled') files.push(...outcome.value);
        else report(reporter, outcome.reason, 'onEnd');
      });
      return files;
    },
  };
}
