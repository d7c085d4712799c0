import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, dataToJson } from '../../../src/scenario/module-data.js';

const LIMITS = { maxBytes: 2_000_000, maxDepth: 100 };

function refusal(value: unknown, limits = LIMITS): string {
  try {
    dataToJson(value, limits);
  } catch (error) {
    if (error instanceof DataError) return error.message;
    throw error;
  }
  throw new Error('expected a DataError');
}

describe('dataToJson: what a scenario module exports, as JSON, defensively', () => {
  it('writes plain data exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(dataToJson(value, LIMITS))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('leaves undefined properties out and writes holes as null, like JSON', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(dataToJson({ a: undefined, b: [1, , undefined] }, LIMITS)).toBe('{"b":[1,null,null]}');
    expect(dataToJson(Object.assign(Object.create(null) as object, { a: 1 }), LIMITS)).toBe(
      '{"a":1}',
    );
  });

  it.each([
    ['a function', { target: { path: () => '/x' } }, /^at target\.path: a function/],
    ['a BigInt', { count: 10n }, /^at count: a BigInt/],
    ['a symbol', [Symbol('x')], /^at \[0\]: a symbol/],
    ['NaN', { n: Number.NaN }, /^at n: NaN is not a JSON number/],
    ['a Map', { m: new Map() }, /^at m: an object of a class/],
    ['a Date', { d: new Date(0) }, /^at d: an object of a class/],
    ['a Proxy', { p: new Proxy({}, {}) }, /^at p: a Proxy/],
    ['an odd key', { 'a b': () => 1 }, /^at \["a b"\]: a function/],
  ])('refuses %s, naming the path', (_name, value, message) => {
    expect(refusal(value)).toMatch(message);
  });

  it('never calls a getter, a toJSON, or a Proxy trap', () => {
    let called = false;
    const getter = Object.defineProperty({}, 'name', {
      enumerable: true,
      get: () => {
        called = true;
        return 'x';
      },
    });
    expect(refusal({ scenario: getter })).toMatch(/^at scenario\.name: a getter or setter/);
    expect(dataToJson({ a: { toJSON: 1 } }, LIMITS)).toBe('{"a":{"toJSON":1}}');
    const trapped = new Proxy(
      {},
      {
        ownKeys: () => {
          called = true;
          return [];
        },
      },
    );
    expect(refusal(trapped)).toMatch(/a Proxy/);
    expect(called).toBe(false);
  });

  it('refuses cycles, deep nesting and too many bytes, without recursing past the limit', () => {
    const cycle: Record<string, unknown> = { name: 'c' };
    cycle.self = { again: cycle };
    expect(refusal(cycle)).toMatch(/^at self\.again: a cycle/);
    let deep: unknown = {};
    for (let level = 0; level < 200_000; level += 1) deep = { a: deep };
    expect(refusal(deep)).toMatch(/nested more than 100 levels deep$/);
    // Shared references are fine, until they add up: 2^40 leaves in 40 levels.
    let shared: unknown = 'x';
    for (let level = 0; level < 40; level += 1) shared = [shared, shared];
    expect(refusal(shared)).toMatch(/more than 2 MB of JSON$/);
    expect(refusal({ a: 'x'.repeat(100) }, { maxBytes: 50, maxDepth: 100 })).toMatch(
      /^at a: the exported data is more than/,
    );
  });

  it('is not fooled by a polluted Object.prototype or replaced built-ins', () => {
    const push = Array.prototype.push;
    const stringify = JSON.stringify;
    try {
      Object.defineProperty(Object.prototype, 'toJSON', {
        configurable: true,
        get: () => {
          throw new Error('planted');
        },
      });
      Object.defineProperty(Object.prototype, 'injected', {
        configurable: true,
        enumerable: true,
        writable: true,
        value: 'polluted',
      });
      Array.prototype.push = () => {
        throw new Error('planted push');
      };
      JSON.stringify = () => 'forged';
      expect(dataToJson({ name: 'p', list: [1, 'two'] }, LIMITS)).toBe(
        '{"name":"p","list":[1,"two"]}',
      );
    } finally {
      Array.prototype.push = push;
      JSON.stringify = stringify;
      delete (Object.prototype as Record<string, unknown>).toJSON;
      delete (Object.prototype as Record<string, unknown>).injected;
    }
  });
});
