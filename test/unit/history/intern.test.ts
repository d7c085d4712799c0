import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent, RecordedResponse } from '../../../src/history/events.js';
import { Interner } from '../../../src/history/intern.js';
import { buildHistory, goodHistory } from '../check/history-arbitrary.js';
import { responseOf } from '../check/history-builder.js';

/** A copy of `value` that shares no string with it, as a freshly received response would. */
const fresh = (value: string): string => Buffer.from(value, 'utf8').toString('utf8');

function copied(response: RecordedResponse): RecordedResponse {
  return {
    ...response,
    headers: response.headers.map(([name, value]) => [fresh(name), fresh(value)] as const),
    body: fresh(response.body),
    bodySha256: fresh(response.bodySha256),
  };
}

describe('Interner', () => {
  it('changes no value: every interned event serialises exactly as the original', () => {
    fc.assert(
      fc.property(goodHistory, (good) => {
        const interner = new Interner();
        const history: HistoryEvent[] = buildHistory(good);
        for (const event of history) {
          const interned = Object.assign({}, event, interner.parts(event));
          expect(JSON.stringify(interned)).toBe(JSON.stringify(event));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('shares equal header pairs and a replayed body between responses received apart', () => {
    const interner = new Interner();
    const original = responseOf({
      status: 201,
      body: { id: 'pay_1', amount: 1000 },
      headers: [['location', '/payments/pay_1']],
    });
    const first = interner.response(copied(original));
    const replay = interner.response(copied(original));
    expect(replay.body).toBe(first.body);
    expect(replay.headers[0]).toBe(first.headers[0]);
    expect(replay).toEqual(original);
  });

  it('keeps bodies apart when their digests differ, even at equal length', () => {
    const interner = new Interner();
    const one = interner.response(responseOf({ status: 200, body: { id: 'pay_1' }, headers: [] }));
    const two = interner.response(responseOf({ status: 200, body: { id: 'pay_2' }, headers: [] }));
    expect(one.body).not.toBe(two.body);
    expect(JSON.parse(two.body)).toEqual({ id: 'pay_2' });
  });

  it('stays correct after its tables start afresh on many unique values', () => {
    const interner = new Interner();
    for (let index = 0; index < 70_000; index += 1) interner.string(`unique-${index}`);
    const a = interner.headers([['x-request-id', fresh('req-1')]]);
    const b = interner.headers([['x-request-id', fresh('req-1')]]);
    expect(b[0]).toBe(a[0]);
    expect(b).toEqual([['x-request-id', 'req-1']]);
  });
});
