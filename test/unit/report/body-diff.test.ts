import { describe, expect, it } from 'vitest';
import { diffBodies, diffJson, diffLines } from '../../../src/report/body-diff.js';

describe('body diff', () => {
  it('lists changed, added and removed JSON fields with their paths', () => {
    expect(
      diffJson(
        { a: 1, b: { c: [1, 2, 3] }, 'odd key': 'x', gone: true },
        { a: 2, b: { c: [1, 5] }, 'odd key': 'x', new: null },
      ),
    ).toEqual([
      { path: '$.a', change: 'changed', before: '1', after: '2' },
      { path: '$.b.c[1]', change: 'changed', before: '2', after: '5' },
      { path: '$.b.c[2]', change: 'removed', before: '3' },
      { path: '$.gone', change: 'removed', before: 'true' },
      { path: '$.new', change: 'added', after: 'null' },
    ]);
    expect(diffJson({ 'a b': 1 }, { 'a b': 2 })[0]?.path).toBe('$["a b"]');
  });

  it('recognises the same JSON value in other bytes (field order, spacing)', () => {
    const diff = diffBodies('{"id":1,"status":"ok"}', '{"status":"ok", "id":1}');
    expect(diff.format).toBe('json');
    expect(diff.sameJsonValue).toBe(true);
    expect(diff.fields).toEqual([]);
    expect(diff.lines?.some((line) => line.op !== 'same')).toBe(true);
  });

  it('diffs lines of text bodies, keeping common lines', () => {
    expect(diffLines('a\nb\nc', 'a\nx\nc')).toEqual([
      { op: 'same', text: 'a' },
      { op: 'ins', text: 'x' },
      { op: 'del', text: 'b' },
      { op: 'same', text: 'c' },
    ]);
    expect(diffBodies('plain <b>', 'other').format).toBe('text');
    expect(diffLines('x\n'.repeat(500), 'y\n'.repeat(500))).toBeNull();
  });
});
