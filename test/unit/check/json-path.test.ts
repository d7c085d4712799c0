import { describe, expect, it } from 'vitest';
import { compileJsonPaths, parseJsonPath, removeAtPaths } from '../../../src/check/json-path.js';

describe('replayIgnore JSON paths', () => {
  it('parses fields, quoted names, indexes and wildcards', () => {
    expect(parseJsonPath('$.meta["request id"][0].*')).toEqual([
      { kind: 'field', name: 'meta' },
      { kind: 'field', name: 'request id' },
      { kind: 'index', index: 0 },
      { kind: 'any' },
    ]);
    expect(parseJsonPath("$['x'].y-z[*]")).toEqual([
      { kind: 'field', name: 'x' },
      { kind: 'field', name: 'y-z' },
      { kind: 'any' },
    ]);
    expect(compileJsonPaths(['request_id', '$.a[', '$.ok']).invalid).toEqual([
      'request_id',
      '$.a[',
    ]);
  });

  it('removes what a path points at without changing the input', () => {
    const input = {
      id: 1,
      request_id: 'r',
      items: [
        { at: 1, n: 1 },
        { at: 2, n: 2 },
      ],
      meta: { a: 1, b: 2 },
    };
    const paths = compileJsonPaths([
      '$.request_id',
      '$.items[*].at',
      '$.meta.*',
      '$.missing.deep',
    ]).paths;
    expect(removeAtPaths(input, paths)).toEqual({ id: 1, items: [{ n: 1 }, { n: 2 }], meta: {} });
    expect(input.request_id).toBe('r');
  });
});
