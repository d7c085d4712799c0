import { describe, expect, it } from 'vitest';
import { downstreamEffectsPerKey } from '../../../src/check/downstream.js';
import type { DownstreamEvent } from '../../../src/history/events.js';
import { indexHistory } from '../../../src/report/history-index.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from '../check/history-builder.js';
import { firstViolationMarkup } from './violation-markup.js';

/** The HTML report shows a key's calls to the downstream, and links those of an anomaly. */
function downstreamCall(h: HistoryBuilder, call: number, forwardedKey: string): DownstreamEvent {
  const event: DownstreamEvent = {
    index: h.events.length,
    time: h.events.length * 3,
    scenario: 'payments',
    type: 'downstream',
    token: 'k-1',
    call,
    forwardedKey,
    forwardedHeader: 'Idempotency-Key',
    answer: call === 1 ? 'drop' : 'ok',
    processed: true,
  };
  h.events.push(event);
  return event;
}

describe('downstream calls in the HTML report', () => {
  it('lists and charts the calls an anomaly points at', () => {
    const h = new HistoryBuilder();
    const invoke = h.invoke({ key: 'k-1' });
    downstreamCall(h, 1, 'pay-a');
    downstreamCall(h, 2, 'pay-b');
    h.ok(invoke, { status: 201, body: payment('pay_1') });
    const result = downstreamEffectsPerKey(h.history(), { profile: PROFILES.default });
    expect(indexHistory(h.history()).scenario('payments').probesByKey.get('k-1')).toHaveLength(2);
    const html = firstViolationMarkup(h.history(), result);
    expect(html).toContain('<h4>Downstream calls (2)</h4>');
    expect(html).toContain('call 1 for <code>k-1</code>');
    expect(html).toContain('Idempotency-Key <code>pay-b</code>: answered ok, processed');
    expect(html).toMatch(/<text class="probe-mark"[^>]*>d2<\/text>/);
    expect(html).toContain('calls to the downstream');
  });
});
