import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../../src/history/events.js';
import { countAttempts } from '../../../src/run/summary.js';

/** Only the fields countAttempts reads; the rest of an event does not matter to it. */
function events(types: readonly HistoryEvent['type'][]): HistoryEvent[] {
  return types.map(
    (type, index) => ({ type, index, time: index, scenario: 's', op: `o${index}` }) as HistoryEvent,
  );
}

describe('countAttempts', () => {
  it('counts each completion by its outcome', () => {
    const history = events(['invoke', 'ok', 'invoke', 'fail', 'invoke', 'info', 'probe']);
    expect(countAttempts(history)).toEqual({ total: 3, ok: 1, fail: 1, info: 1 });
  });

  it('counts an attempt cut off before its completion (a killed run) as outcome unknown', () => {
    const history = events(['invoke', 'ok', 'invoke', 'invoke', 'fail']);
    expect(countAttempts(history)).toEqual({ total: 3, ok: 1, fail: 1, info: 1 });
  });
});
