import { describe, expect, it } from 'vitest';
import { failClosed } from '../../../src/check/fail-closed.js';
import type { DependencyEvent } from '../../../src/history/events.js';
import { indexHistory } from '../../../src/report/history-index.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from '../check/history-builder.js';
import { firstViolationMarkup } from './violation-markup.js';

/** The HTML report shades dependency fault windows and lists the fault an attempt was sent in. */
function dependency(h: HistoryBuilder, type: DependencyEvent['type']): void {
  h.events.push({
    index: h.events.length,
    time: (h.events.at(-1)?.time ?? 0) + 2,
    scenario: 'payments',
    type,
    dependency: 'store',
    fault: 'down',
    detail: 'down (connections closed and refused) on store (127.0.0.1:16379 → 127.0.0.1:5432)',
    pattern: 'dependency-fault#1',
  });
}

describe('dependency faults in the HTML report', () => {
  it('shades the window in the timeline and lists the fault of an attempt sent while it was held', () => {
    const h = new HistoryBuilder();
    const at = { pattern: 'dependency-fault#1', patternKind: 'dependency-fault' } as const;
    dependency(h, 'dependency-fault');
    h.send({ ...at, label: 'original (store down)' }, { status: 201, body: payment('pay_1') });
    dependency(h, 'dependency-heal');
    h.send({ ...at, label: 'retry 1 (store healed)' }, { status: 201, body: payment('pay_2') });
    h.effects(2);
    const result = failClosed(h.history(), { profile: PROFILES.default });
    expect(indexHistory(h.history()).scenario('payments').dependencyWindows).toHaveLength(1);
    const html = firstViolationMarkup(h.history(), result);
    expect(html).toContain('<h4>Dependency faults</h4>');
    // (The report escapes the colons of interpolated text as &#58;.)
    expect(html).toMatch(
      /<li>#0 at 2 ms: down \(connections closed and refused\) on store .*; healed at 8 ms \(#3\)&#58; sent while it was held<\/li>/,
    );
    expect(html).toContain('<rect class="dependency-fault"');
    expect(html).toContain('shaded&#58; down (connections closed and refused) on store');
  });
});
