/** Number formats shared by the HTML page's parts. */

/** Milliseconds since the run started, or a duration: "0.8 ms", "125 ms", "12.40 s". */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '?';
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(2)} s`;
  if (Math.abs(value) >= 100) return `${Math.round(value)} ms`;
  return `${Number(value.toFixed(1))} ms`;
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
