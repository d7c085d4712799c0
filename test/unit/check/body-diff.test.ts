import { describe, expect, it } from 'vitest';
import { describeBodyDifference } from '../../../src/check/body-diff.js';
import { compileJsonPaths } from '../../../src/check/json-path.js';
import { payment, responseOf } from './history-builder.js';

const body = (value: unknown, recordedChars?: number) =>
  responseOf({
    status: 200,
    body: value,
    ...(recordedChars === undefined ? {} : { recordedChars }),
  });

describe('describeBodyDifference', () => {
  it('names the differing JSON paths with both values, ignoring key order', () => {
    const first = body(payment('pay_1'));
    const { status: _status, created_at: _createdAt, ...rest } = payment('pay_1');
    const second = body({
      created_at: '2025-01-01T10:00:09.000Z',
      status: 'pending',
      ...rest,
      refund: { id: 'r_1' },
    });
    expect(describeBodyDifference(first, second)).toBe(
      '$.status: "succeeded" vs "pending"; $.created_at: "2025-01-01T10:00:00.000Z" vs "2025-01-01T10:00:09.000Z"; $.refund: (absent) vs {"id":"r_1"}',
    );
  });

  it('shows at most five paths and counts the rest', () => {
    const first = body({ items: [1, 2, 3, 4, 5, 6, 7] });
    const second = body({ items: [0, 0, 0, 0, 0, 0, 0], 'odd key': true });
    expect(describeBodyDifference(first, second)).toBe(
      '$.items[0]: 1 vs 0; $.items[1]: 2 vs 0; $.items[2]: 3 vs 0; $.items[3]: 4 vs 0; $.items[4]: 5 vs 0 (and 3 more paths)',
    );
  });

  it('leaves out ignored paths', () => {
    const ignoreJsonPaths = compileJsonPaths(['$.request_id', '$.items[*].at']).paths;
    const first = body({ id: 1, request_id: 'a', items: [{ at: 1, n: 1 }] });
    const second = body({ id: 2, request_id: 'b', items: [{ at: 2, n: 1 }] });
    expect(describeBodyDifference(first, second, { ignoreJsonPaths })).toBe('$.id: 1 vs 2');
  });

  it('gives the first differing byte with context from each body when they are not JSON', () => {
    const first = body(`<html><body>Payment ${'x'.repeat(40)} succeeded for café</body></html>`);
    const second = body(`<html><body>Payment ${'x'.repeat(40)} succeeded for cafè</body></html>`);
    expect(describeBodyDifference(first, second)).toBe(
      'first difference at byte 79: …"x succeeded for café</body></html>" vs …"x succeeded for cafè</body></html>"',
    );
  });

  it('says where a shorter body ends, and when bodies differ only beyond the recording limit', () => {
    expect(describeBodyDifference(body('OK'), body('OK, charged twice'))).toBe(
      'the first body ends at byte 2 (2 bytes in all), where the other continues with "OK, charged twice"',
    );
    const cutA = body('a'.repeat(100) + 'b', 50);
    const cutB = body('a'.repeat(100) + 'c', 50);
    expect(describeBodyDifference(cutA, cutB)).toMatch(
      /^the recorded 50 bytes are identical; the bodies differ after the recording limit \(sha256 \w{12}… vs \w{12}…\)$/,
    );
  });

  it('says so when the bodies are the same JSON in other bytes, or identical', () => {
    expect(describeBodyDifference(body('{"a":1,"b":2}'), body('{"b":2,"a":1}'))).toMatch(
      /^the bodies hold the same JSON data but not the same bytes \(first difference at byte 2: /,
    );
    expect(describeBodyDifference(body('x'), body('x'))).toBe('the bodies are byte-identical');
  });
});
