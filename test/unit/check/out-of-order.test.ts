import { describe, expect, it } from 'vitest';
import { outOfOrderFinalState } from '../../../src/check/out-of-order.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

const context = { profile: PROFILES.default };
const step = (key: string, label: string, sequence: number) =>
  ({
    key,
    label,
    resource: 'order-1',
    sequence,
    patternKind: 'out-of-order',
    payload: { status: label },
  }) as const;

function orderHistory(final: unknown): HistoryBuilder {
  const h = new HistoryBuilder();
  h.send(step('k-pay', 'operation 1', 0), { status: 200, body: { id: 'order-1', status: 'paid' } });
  h.send(step('k-ship', 'operation 2', 1), {
    status: 200,
    body: { id: 'order-1', status: 'shipped' },
  });
  h.state('order-1', 'in-order state', { id: 'order-1', status: 'shipped' });
  h.send(step('k-pay', 'late duplicate of operation 1', 0), {
    status: 200,
    body: { id: 'order-1', status: 'paid' },
  });
  h.state('order-1', 'final state', final);
  return h;
}

describe('outOfOrderFinalState', () => {
  it('holds when the late duplicate left the state as in order', () => {
    const result = outOfOrderFinalState(
      orderHistory({ status: 'shipped', id: 'order-1' }).history(),
      context,
    );
    expect(result).toMatchObject({ valid: true, checked: 1 });
  });

  it('reports a regressed state, naming the late duplicate and the differing paths', () => {
    const result = outOfOrderFinalState(
      orderHistory({ id: 'order-1', status: 'paid' }).history(),
      context,
    );
    const anomaly = onlyAnomaly(result, 'state-regressed');
    expect(anomaly).toMatchObject({
      kind: 'state-regressed',
      key: 'k-pay',
      actual: '$.status: "shipped" vs "paid" (in-order vs final)',
    });
    expect(anomaly.message).toContain(
      "Late duplicates on it: 'late duplicate of operation 1' (lane clean)",
    );
    expect(anomaly.events).toEqual([4, 5, 6, 7]);
  });

  it('is unknown when a reading failed or is missing', () => {
    const failed = orderHistory(null);
    failed.state('order-1', 'final state', null, 'GET /orders/order-1: 503');
    const result = outOfOrderFinalState(failed.history(), context);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toContain("the 'final state' reading failed: GET /orders/order-1: 503");

    const missing = new HistoryBuilder();
    missing.state('order-1', 'in-order state', {});
    expect(outOfOrderFinalState(missing.history(), context).valid).toBe('unknown');
  });

  it('is not applicable without state readings', () => {
    expect(outOfOrderFinalState(new HistoryBuilder().history(), context)).toMatchObject({
      valid: true,
      checked: 0,
    });
  });
});
