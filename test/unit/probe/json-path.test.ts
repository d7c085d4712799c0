import { describe, expect, it } from 'vitest';
import { countAt, selectJsonPath } from '../../../src/probe/json-path.js';
import { expandEnv, resolveUrl } from '../../../src/probe/probes.js';

describe('probe helpers', () => {
  const document = { count: 2, data: [{ id: 'a' }, { id: 'b' }], 'odd key': { n: '7' } };

  it('select values by JSON path', () => {
    expect(selectJsonPath(document, '$')).toBe(document);
    expect(selectJsonPath(document, '$.data[1].id')).toBe('b');
    expect(selectJsonPath(document, "$['odd key'].n")).toBe('7');
    expect(selectJsonPath(document, '$.missing.deeper')).toBeUndefined();
    expect(() => selectJsonPath(document, 'data')).toThrow(/is not understood/);
  });

  it('count a number, a numeric string or an array', () => {
    expect(countAt(document, '$.count')).toBe(2);
    expect(countAt(document, '$.data')).toBe(2);
    expect(countAt(document, "$['odd key'].n")).toBe(7);
    expect(() => countAt(document, '$.data[0]')).toThrow(
      'expected a number or an array at $.data[0], found {"id":"a"}',
    );
  });

  it('resolve probe URLs against the target and expand environment variables', () => {
    expect(resolveUrl('/payments?k=1', 'http://127.0.0.1:5/api/')).toBe(
      'http://127.0.0.1:5/api/payments?k=1',
    );
    expect(resolveUrl('http://other:1/x', 'http://127.0.0.1:5')).toBe('http://other:1/x');
    expect(expandEnv('postgres://${USER_X}@h/db', { USER_X: 'app' })).toBe('postgres://app@h/db');
    expect(() => expandEnv('${NOPE}', {})).toThrow('environment variable NOPE is not set');
  });
});
