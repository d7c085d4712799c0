import type { LatencySummary } from '../run/result.js';
import { markup, type SafeHtml } from './html-escape.js';
import { CHART_COLUMN_PX, count, ms, px, textColumns } from './html-format.js';

/**
 * An inline SVG histogram of response times (attempts that got a response), with the
 * scenario's p50, p90 and p99 as vertical lines.
 */

const WIDTH = 560;
const HEIGHT = 160;
const LEFT = 48;
const RIGHT = 16;
const TOP = 18;
const BOTTOM = 28;
const BINS = 24;

export function renderHistogram(durations: readonly number[], latency: LatencySummary): SafeHtml {
  let max = 0;
  let values = 0;
  for (const duration of durations) {
    if (!Number.isFinite(duration) || duration < 0) continue;
    values++;
    if (duration > max) max = duration;
  }
  if (values === 0)
    return markup`<p class="note">No attempt got a response, so there is no latency to show.</p>`;
  const top = max > 0 ? max : 1;
  const bins = new Array<number>(BINS).fill(0);
  for (const duration of durations) {
    if (!Number.isFinite(duration) || duration < 0) continue;
    const bin = Math.min(BINS - 1, Math.floor((duration / top) * BINS));
    bins[bin] = (bins[bin] ?? 0) + 1;
  }
  const highest = Math.max(1, ...bins);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const barWidth = plotWidth / BINS;
  const x = (value: number): number => px(LEFT + (Math.min(value, top) / top) * plotWidth);
  const bars = bins.map((n, i) => {
    if (n === 0) return null;
    const h = (n / highest) * plotHeight;
    const from = (i / BINS) * top;
    const to = ((i + 1) / BINS) * top;
    const title = `${ms(from)} – ${ms(to)}: ${count(n)} responses`;
    return markup`<rect class="hist" x="${px(LEFT + i * barWidth + 1)}" y="${px(TOP + plotHeight - h)}"
      width="${px(barWidth - 2)}" height="${px(h)}"><title>${title}</title></rect>`;
  });
  const marks =
    latency.count > 0
      ? (
          [
            ['p50', latency.p50],
            ['p90', latency.p90],
            ['p99', latency.p99],
          ] as const
        ).map(([name, value], i) => {
          const label = `${name} ${ms(value)}`;
          // Right of its line, or left of it when it would run off the chart.
          const fits = x(value) + 3 + textColumns(label) * CHART_COLUMN_PX <= WIDTH;
          return markup`<line class="pct" x1="${x(value)}" y1="${TOP}" x2="${x(value)}" y2="${TOP + plotHeight}"></line>
              <text class="axis" x="${fits ? x(value) + 3 : x(value) - 3}" y="${TOP + 10 + i * 11}" text-anchor="${fits ? 'start' : 'end'}">${label}</text>`;
        })
      : [];
  const base = TOP + plotHeight;
  return markup`<figure class="histogram">
    <svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}"
      role="img" aria-label="response time histogram">
      <line class="tick" x1="${LEFT}" y1="${base}" x2="${WIDTH - RIGHT}" y2="${base}"></line>
      ${bars}${marks}
      <text class="axis" x="${LEFT}" y="${base + 16}" text-anchor="start">0 ms</text>
      <text class="axis" x="${WIDTH - RIGHT}" y="${base + 16}" text-anchor="end">${ms(top)}</text>
      <text class="axis" x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${count(highest)}</text>
      <text class="axis" x="${LEFT - 6}" y="${base}" text-anchor="end">0</text>
    </svg>
    <figcaption>
      ${`Response times of ${count(values)} attempts that got a response · p50 ${ms(latency.p50)} · p90 ${ms(latency.p90)} · p99 ${ms(latency.p99)} · max ${ms(latency.max)}`}
    </figcaption>
  </figure>`;
}
