import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprintOf, type KeyedRequest } from '../../../src/demo/idempotency.js';

/** Rebuilds every object in `value` with its keys in reverse order. */
function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorder);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([key, item]) => [key, reorder(item)]),
    );
  }
  return value;
}

const request = (body: unknown): KeyedRequest => ({
  tenant: 't',
  key: 'k',
  method: 'POST',
  path: '/payments',
  body,
});

describe('request fingerprint', () => {
  it('does not depend on the order of object fields', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(reorder(value))).toBe(canonicalJson(value));
      }),
    );
  });

  it('is valid JSON that parses back to an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('changes when any field of the payload changes', () => {
    fc.assert(
      fc.property(
        fc.record({ amount: fc.integer({ min: 1 }), currency: fc.string(), customer: fc.string() }),
        fc.integer({ min: 1 }),
        (payment, other) => {
          fc.pre(other !== payment.amount);
          expect(fingerprintOf(request({ ...payment, amount: other }))).not.toBe(
            fingerprintOf(request(payment)),
          );
        },
      ),
    );
  });

  it('changes with the method and path', () => {
    const body = { amount: 1 };
    expect(fingerprintOf({ ...request(body), path: '/refunds' })).not.toBe(
      fingerprintOf(request(body)),
    );
    expect(fingerprintOf({ ...request(body), method: 'PUT' })).not.toBe(
      fingerprintOf(request(body)),
    );
  });
});
