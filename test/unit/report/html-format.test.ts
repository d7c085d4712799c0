import { describe, expect, it } from 'vitest';
import { attemptsOf, type HistoryEvent } from '../../../src/history/events.js';
import {
  breakable,
  CHART_COLUMN_PX,
  fitColumns,
  msResolution,
  textColumns,
} from '../../../src/report/html-format.js';
import { renderHistogram } from '../../../src/report/html-histogram.js';
import { lanePalette } from '../../../src/report/html-lanes.js';
import { LABEL_COLUMNS, renderTimeline } from '../../../src/report/html-timeline.js';
import { HistoryBuilder, payment } from '../check/history-builder.js';

describe('textColumns', () => {
  it('counts monospace columns: wide characters 2, combining marks 0, controls as shown', () => {
    expect(textColumns('retry 1 · clean')).toBe(15);
    expect(textColumns('支付-1')).toBe(6);
    expect(textColumns('e\u0301')).toBe(1);
    expect(textColumns('a\u001bb')).toBe(2 + '⟨U+001B⟩'.length);
  });
});

describe('fitColumns', () => {
  it('keeps text that fits as it is', () => {
    expect(fitColumns('retry 1 · clean', 15)).toEqual({ text: 'retry 1 · clean', cut: false });
  });

  it('cuts wider text to the columns, ending with an ellipsis', () => {
    const long = 'retry 1 · clean · Acme International Holdings GmbH & Co. KG';
    const fitted = fitColumns(long, 29);
    expect(fitted.cut).toBe(true);
    expect(fitted.text).toBe('retry 1 · clean · Acme Inter…');
    expect(textColumns(fitted.text)).toBe(29);
    expect(long.startsWith(fitted.text.slice(0, -1))).toBe(true);
  });

  it('counts wide characters twice and never splits one', () => {
    const fitted = fitColumns('支付支付支付', 6);
    expect(fitted).toEqual({ text: '支付…', cut: true });
    expect(textColumns(fitted.text)).toBeLessThanOrEqual(6);
  });

  it('measures control characters as the page shows them', () => {
    const fitted = fitColumns('\u202Eevil tenant', 12);
    expect(fitted).toEqual({ text: '⟨U+202E⟩evi…', cut: true });
  });
});

describe('breakable', () => {
  it('lets camelCase and separated names wrap at their parts', () => {
    expect(breakable('distinctKeysDistinctEffects').markup).toBe(
      'distinct<wbr>Keys<wbr>Distinct<wbr>Effects',
    );
    expect(breakable('effectsPerKey2').markup).toBe('effects<wbr>Per<wbr>Key2');
    expect(breakable('in-flight_v2.check').markup).toBe('in-<wbr>flight_<wbr>v2.<wbr>check');
    expect(breakable('plain').markup).toBe('plain');
  });

  it('escapes each part', () => {
    expect(breakable('<b onclick="x">Bold</b>').markup).toBe(
      '&lt;b onclick&#61;&quot;x&quot;&gt;Bold&lt;/<wbr>b&gt;',
    );
  });
});

describe('msResolution', () => {
  it('is the smallest step `ms` shows', () => {
    expect(msResolution(12)).toBe(0.1);
    expect(msResolution(-150)).toBe(1);
    expect(msResolution(12_345)).toBe(10);
  });
});

/** A key with two attempts, the second under a tenant with a long name, at `start` ms. */
function attempts(tenant: string, start: number, spacing: number): HistoryEvent[] {
  const h = new HistoryBuilder();
  h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
  h.send({ label: 'retry 1', tenant }, { status: 201, body: payment('pay_1') });
  return h.history().map((event) => ({ ...event, time: start + event.index * spacing }));
}

/** What the <text> elements of a class say in the timeline of `events` (as markup). */
function timelineTexts(events: readonly HistoryEvent[], className: string): string[] {
  const svg = renderTimeline(
    { title: 'key k-1', attempts: attemptsOf(events), probes: [] },
    lanePalette(['clean']),
  ).markup;
  const text = new RegExp(`<text class="${className}"[^>]*>(.*?)</text>`, 'g');
  return [...svg.matchAll(text)].map((match) => match[1] ?? '');
}

describe('renderTimeline', () => {
  it('fits every label to its column; a cut one keeps its whole text as a <title>', () => {
    expect(LABEL_COLUMNS).toBe(29);
    expect(LABEL_COLUMNS * CHART_COLUMN_PX).toBeLessThanOrEqual(210 - 10);
    const tenant = 'Acme International Holdings GmbH & Co. KG (Europe West)';
    expect(timelineTexts(attempts(tenant, 10, 3), 'label')).toEqual([
      'original · clean',
      `<title>retry 1 · clean · ${tenant.replace('&', '&amp;')}</title>retry 1 · clean · Acme Inter…`,
    ]);
  });

  it('never repeats a time on its axis, even when the key spans less than a millisecond', () => {
    const ticks = timelineTexts(attempts('t', 150.1, 0.2), 'axis');
    expect(ticks.length).toBeGreaterThan(0);
    expect(new Set(ticks).size).toBe(ticks.length);
  });
});

describe('renderHistogram', () => {
  it('puts a percentile label left of its line when it would run off the chart', () => {
    const svg = renderHistogram([3, 3, 3, 40], {
      count: 4,
      p50: 3,
      p90: 40,
      p99: 40,
      max: 40,
    }).markup;
    expect(svg).toMatch(/text-anchor="start">p50 3 ms</);
    expect(svg).toMatch(/text-anchor="end">p90 40 ms</);
    expect(svg).toMatch(/text-anchor="end">p99 40 ms</);
  });
});
