/**
 * One part of `npm run bench`: a named measurement with its target, the figures, and a
 * Markdown table. `run-all.ts` runs every section and writes reports/bench/<timestamp>.json
 * and .md. Sections record figures; they never assert (a benchmark is not a test).
 */
export interface BenchOptions {
  /** CI runs every section once at tiny sizes so the benchmarks keep working. */
  readonly tiny: boolean;
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
}

export interface BenchSection {
  readonly name: string;
  /** The target the issue sets, in words, e.g. "median ≤ 0.5 ms direct". */
  readonly target: string;
  /** Whether the figures meet the target; null when the run was too small to say (tiny). */
  readonly met: boolean | null;
  /** Plain data: every figure measured. */
  readonly figures: Record<string, unknown>;
  /** What limits the figures (machine, method), in a sentence or two. */
  readonly limits: string;
  /** A Markdown table of the figures. */
  readonly table: string;
}

export type Benchmark = (options: BenchOptions) => Promise<BenchSection>;

/** A Markdown table from a header and rows. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Median, standard deviation, min and max of samples. */
export function describeSamples(samples: readonly number[]): {
  median: number;
  stddev: number;
  min: number;
  max: number;
  count: number;
} {
  const sorted = [...samples].sort((a, b) => a - b);
  const count = sorted.length;
  if (count === 0) return { median: 0, stddev: 0, min: 0, max: 0, count };
  const middle = Math.floor(count / 2);
  const median =
    count % 2 === 1
      ? (sorted[middle] ?? 0)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / count;
  const stddev = Math.sqrt(sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0) / count);
  return { median, stddev, min: sorted[0] ?? 0, max: sorted[count - 1] ?? 0, count };
}
