import type { Attempt, DownstreamEvent, HookEvent, ProbeEvent } from '../history/events.js';
import { markup, type SafeHtml } from './html-escape.js';
import { CHART_COLUMN_PX, fitColumns, ms, msResolution, niceStep, px } from './html-format.js';
import { laneLegend, type LanePalette } from './html-lanes.js';
import type { DependencyWindow } from './history-index.js';
import { clip } from './printable.js';

/**
 * An inline SVG timeline of one key: x is time (ms since the run started), one row per
 * attempt with a bar from its invoke to its completion coloured by lane, an end marker by
 * outcome (the status for ok, ✕ for fail, ? for info, … when no completion was recorded), and
 * the key's probe readings as diamonds on a last row. Every bar and mark has a <title>, which
 * browsers show on hover without any script. A row's label (attempt, lane, tenant) that is wider
 * than the label column is cut with … and keeps its whole text in a <title> of its own.
 * Dependency faults held meanwhile (the store down, say) are shaded bands from their fault to
 * their heal, behind the bars.
 */

export const MAX_TIMELINE_ROWS = 200;
const WIDTH = 860;
const LABEL = 210;
const RIGHT = 60;
const ROW = 18;
const TOP = 24;
const PLOT = WIDTH - LABEL - RIGHT;
/** Labels end 8 px left of the plot and keep 2 px from the chart's left edge. */
export const LABEL_COLUMNS = Math.floor((LABEL - 10) / CHART_COLUMN_PX);

export interface TimelineInput {
  /** Shown above the chart and in its aria-label, e.g. "key k-123". */
  readonly title: string;
  readonly attempts: readonly Attempt[];
  /** Probe readings, hooks and calls to the downstream, marked on the last row. */
  readonly probes: readonly (ProbeEvent | HookEvent | DownstreamEvent)[];
  /** Ops an anomaly points at: their labels are bold. */
  readonly highlight?: ReadonlySet<string>;
  /** Dependency faults held meanwhile: shaded bands from fault to heal behind the bars. */
  readonly dependencyWindows?: readonly DependencyWindow[];
}

function endOf(attempt: Attempt): number | null {
  return attempt.completion?.time ?? null;
}

function outcomeText(attempt: Attempt): string {
  const completion = attempt.completion;
  if (completion === undefined) return 'no completion recorded';
  if (completion.type === 'ok')
    return `response ${completion.response.status} after ${ms(completion.durationMs)}`;
  const meaning = completion.type === 'fail' ? 'not sent' : 'outcome unknown';
  return `${meaning} after ${ms(completion.durationMs)}: ${completion.error.code} ${completion.error.message}`;
}

function probeText(probe: ProbeEvent | HookEvent | DownstreamEvent): {
  mark: string;
  title: string;
  bad: boolean;
} {
  if (probe.type === 'downstream') {
    const forwarded =
      probe.forwardedKey === null
        ? `no ${probe.forwardedHeader ?? 'forwarded key'}`
        : `${probe.forwardedHeader ?? 'forwarded key'} ${probe.forwardedKey}`;
    return {
      mark: `d${probe.call}`,
      title: `downstream call ${probe.call} for ${probe.token} at ${ms(probe.time)} (${forwarded}): answered ${probe.answer}, ${probe.processed ? 'processed' : 'not processed'}`,
      bad: false,
    };
  }
  if (probe.type === 'hook') {
    const head = `hook ${probe.phase} '${probe.label}' ${probe.request.method} ${probe.request.url} at ${ms(probe.time)}`;
    const outcome =
      probe.response === undefined
        ? `failed: ${probe.error?.code ?? ''} ${probe.error?.message ?? ''}`
        : `answered ${probe.response.status}`;
    return { mark: 'h', title: `${head}: ${outcome}`, bad: probe.response === undefined };
  }
  const head = `probe ${probe.probe} (${probe.source}) ${probe.label} at ${ms(probe.time)}`;
  const reading = probe.reading;
  if (!reading.ok) return { mark: '!', title: `${head}: failed: ${reading.error}`, bad: true };
  if ('count' in reading) {
    const delta =
      reading.before === undefined ? '' : ` (counter ${reading.before} → ${reading.after ?? '?'})`;
    return {
      mark: String(reading.count),
      title: `${head}: count ${reading.count}${delta}`,
      bad: false,
    };
  }
  if ('absent' in reading) return { mark: '∅', title: `${head}: absent (404)`, bad: false };
  const state = JSON.stringify(reading.state) ?? 'undefined';
  return { mark: 's', title: `${head}: state ${clip(state, 300)}`, bad: false };
}

export function renderTimeline(input: TimelineInput, palette: LanePalette): SafeHtml {
  const all = [...input.attempts].sort(
    (a, b) => a.invoke.time - b.invoke.time || a.invoke.index - b.invoke.index,
  );
  const attempts = all.slice(0, MAX_TIMELINE_ROWS);
  const times: number[] = [];
  for (const attempt of attempts) {
    times.push(attempt.invoke.time);
    const end = endOf(attempt);
    if (end !== null) times.push(end);
  }
  for (const probe of input.probes) times.push(probe.time);
  if (times.length === 0)
    return markup`<p class="note">No attempts recorded for ${input.title}.</p>`;
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const t of times) {
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  if (t1 - t0 < 1) t1 = t0 + 1;
  const x = (t: number): number => px(LABEL + ((t - t0) / (t1 - t0)) * PLOT);
  const rows = attempts.length + (input.probes.length > 0 ? 1 : 0);
  const height = TOP + rows * ROW + 6;

  // No finer than `ms` shows, so that no two ticks carry the same label.
  const step = Math.max(niceStep(t1 - t0, 6), msResolution(Math.max(Math.abs(t0), Math.abs(t1))));
  const ticks: SafeHtml[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
    ticks.push(
      markup`<line class="tick" x1="${x(t)}" y1="${TOP - 4}" x2="${x(t)}" y2="${height - 4}"></line>
        <text class="axis" x="${x(t)}" y="${TOP - 8}" text-anchor="middle">${ms(t)}</text>`,
    );
  }

  const bars = attempts.map((attempt, row) => {
    const y = TOP + row * ROW;
    const invoke = attempt.invoke;
    const end = endOf(attempt);
    const x0 = x(invoke.time);
    const x1 = Math.max(x0 + 2, x(end ?? t1));
    const completion = attempt.completion;
    const endMark =
      completion === undefined
        ? '…'
        : completion.type === 'ok'
          ? String(completion.response.status)
          : completion.type === 'fail'
            ? '✕'
            : '?';
    const endClass = completion === undefined ? 'open' : completion.type;
    const fullLabel = `${invoke.label} · ${invoke.lane}${invoke.tenant === null ? '' : ` · ${invoke.tenant}`}`;
    const label = fitColumns(fullLabel, LABEL_COLUMNS);
    // A cut label ends with … and carries its whole text as its own tooltip.
    const labelTitle = label.cut ? markup`<title>${fullLabel}</title>` : null;
    const strong = input.highlight?.has(invoke.op) === true ? ' strong' : '';
    const title = `${invoke.op} · ${invoke.label} · lane ${invoke.lane} · ${invoke.pattern}${
      invoke.tenant === null ? '' : ` · tenant ${invoke.tenant}`
    }${invoke.keySent ? '' : ' · key not sent'} · invoke #${invoke.index} at ${ms(invoke.time)} · ${outcomeText(attempt)}`;
    const barClass = `bar ${palette.classOf(invoke.lane)}${completion === undefined ? ' open' : ''}`;
    return markup`<g><title>${title}</title>
      <text class="label${strong}" x="${LABEL - 8}" y="${y + 12}" text-anchor="end">${labelTitle}${label.text}</text>
      <rect class="${barClass}" x="${x0}" y="${y + 3}" width="${px(x1 - x0)}" height="${ROW - 6}"></rect>
      <text class="end ${endClass}" x="${px(x1 + 4)}" y="${y + 12}">${endMark}</text></g>`;
  });

  let probeRow: SafeHtml | null = null;
  if (input.probes.length > 0) {
    const y = TOP + attempts.length * ROW + ROW / 2;
    const marks = input.probes.map((probe) => {
      const px0 = x(probe.time);
      const { mark, title, bad } = probeText(probe);
      const diamond = `${px0},${y - 5} ${px0 + 5},${y} ${px0},${y + 5} ${px0 - 5},${y}`;
      return markup`<g><title>${title}</title>
        <polygon class="probe${bad ? ' bad' : ''}" points="${diamond}"></polygon>
        <text class="probe-mark" x="${px(px0 + 7)}" y="${y + 4}">${mark}</text></g>`;
    });
    probeRow = markup`<text class="label" x="${LABEL - 8}" y="${y + 4}" text-anchor="end">probe readings</text>
      ${marks}`;
  }

  // Only the windows that overlap what the chart shows; an unhealed one runs to its end.
  const windows = (input.dependencyWindows ?? []).filter(
    (window) => window.fault.time <= t1 && (window.heal?.time ?? t1) >= t0,
  );
  const bands = windows.map((window) => {
    const from = x(Math.max(window.fault.time, t0));
    const to = Math.max(from + 2, x(Math.min(window.heal?.time ?? t1, t1)));
    const title = `${window.fault.detail} · from ${ms(window.fault.time)} ${
      window.heal === undefined ? 'and never healed' : `to ${ms(window.heal.time)}`
    } · ${window.fault.pattern}`;
    return markup`<g><title>${title}</title>
      <rect class="dependency-fault" x="${from}" y="${TOP - 2}" width="${px(to - from)}" height="${height - TOP - 2}" fill="#d97706" fill-opacity="0.14" stroke="#d97706" stroke-opacity="0.5" stroke-dasharray="3 2"></rect></g>`;
  });

  const lanes = [...new Set(attempts.map((attempt) => attempt.invoke.lane))];
  const cut =
    all.length > attempts.length
      ? markup`<p class="note">
          First ${MAX_TIMELINE_ROWS} of ${all.length} attempts shown; all are in history.jsonl.
        </p>`
      : null;
  return markup`<figure class="timeline">
    <svg class="chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}"
      role="img" aria-label="${`timeline of ${input.title}`}">
      ${ticks}${bands}${bars}${probeRow}
    </svg>
    <figcaption>
      ${laneLegend(palette, lanes)}
      <span class="legend-item text">end: status · ✕ not sent · ? outcome unknown · … no completion${
        input.probes.length > 0 ? ' · ◆ probe reading' : ''
      }${
        input.probes.some((probe) => probe.type === 'downstream')
          ? ' (d1, d2…: calls to the downstream)'
          : ''
      }${
        windows.length > 0
          ? ` · shaded: ${windows.map((window) => window.fault.detail).join('; ')}`
          : ''
      }</span>
    </figcaption>
    ${cut}
  </figure>`;
}
