import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BodyError,
  differentBody,
  encodeBody,
  encodeForm,
  encodeMultipart,
  replaceInStrings,
} from '../../../src/plan/body.js';
import { differentPayload } from '../../../src/plan/template.js';
import { parseStripeForm } from '../../../src/demo/charges.js';

/** Parses a multipart body with undici's (the WHATWG) parser. */
async function formData(bytes: Buffer, contentType: string): Promise<FormData> {
  return new Response(new Uint8Array(bytes), {
    headers: { 'content-type': contentType },
  }).formData();
}

describe('body encoders', () => {
  it('write JSON as JSON', () => {
    const encoded = encodeBody({ amount: 5, note: 'é' }, 'json', 's');
    expect(encoded?.contentType).toBe('application/json');
    expect(JSON.parse(encoded?.bytes.toString('utf8') ?? '')).toEqual({ amount: 5, note: 'é' });
  });

  it('write forms with Stripe-style nested brackets, which URLSearchParams reads back', () => {
    const text = encodeForm({
      amount: 2000,
      currency: 'usd',
      metadata: { order_id: '6735', 'a b': 'x&y=z' },
      items: [{ price: 'p_1', quantity: 2 }, { price: 'p_2' }],
      capture: false,
      description: null,
    });
    expect(text).toContain('metadata[order_id]=6735');
    expect(text).toContain('items[0][price]=p_1');
    expect(text).toContain('items[1][price]=p_2');
    expect([...new URLSearchParams(text)]).toEqual([
      ['amount', '2000'],
      ['currency', 'usd'],
      ['metadata[order_id]', '6735'],
      ['metadata[a b]', 'x&y=z'],
      ['items[0][price]', 'p_1'],
      ['items[0][quantity]', '2'],
      ['items[1][price]', 'p_2'],
      ['capture', 'false'],
      ['description', ''],
    ]);
    expect(encodeBody({ a: 1 }, 'form', 's')?.contentType).toBe(
      'application/x-www-form-urlencoded',
    );
  });

  it('round-trip any nested form through the demo’s Stripe parser', () => {
    // Names without brackets, and not all digits (which Stripe reads as list positions).
    const key = fc
      .string({ minLength: 1, maxLength: 8 })
      .filter((text) => !/[[\]]/.test(text) && !/^\d+$/.test(text));
    const leaf = fc.string({ maxLength: 12 });
    const value = fc.dictionary(
      key,
      fc.oneof(
        leaf,
        fc.dictionary(key, leaf, { minKeys: 1, maxKeys: 3 }),
        fc.array(leaf, { minLength: 1, maxLength: 3 }),
      ),
      { minKeys: 1, maxKeys: 5 },
    );
    fc.assert(
      fc.property(value, (record) => {
        expect(parseStripeForm(encodeForm(record))).toEqual(record);
      }),
      { numRuns: 200 },
    );
  });

  it('write multipart fields and files that a real multipart parser reads back', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x0d, 0x0a]);
    const value = {
      title: 'résumé "quoted"',
      count: 3,
      tags: ['a', 'b'],
      meta: { deep: true },
      skipped: null,
      file: { $base64: png.toString('base64'), filename: 'x.png', contentType: 'image/png' },
    };
    const encoded = encodeBody(value, 'multipart', 'op-1');
    expect(encoded?.contentType).toMatch(/^multipart\/form-data; boundary=idemproof-[0-9a-f]{24}$/);
    const form = await formData(encoded?.bytes ?? Buffer.alloc(0), encoded?.contentType ?? '');
    expect(form.get('title')).toBe('résumé "quoted"');
    expect(form.get('count')).toBe('3');
    expect(form.getAll('tags')).toEqual(['a', 'b']);
    expect(JSON.parse(form.get('meta') as string)).toEqual({ deep: true });
    expect(form.has('skipped')).toBe(false);
    const file = form.get('file') as File;
    expect(file.name).toBe('x.png');
    expect(file.type).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer())).toEqual(png);
  });

  it('keep the multipart boundary fixed for a seed, and out of the content', () => {
    const first = encodeMultipart({ a: 'x' }, 'seed');
    expect(encodeMultipart({ a: 'x' }, 'seed')).toEqual(first);
    expect(encodeMultipart({ a: 'x' }, 'other').boundary).not.toBe(first.boundary);
    // A field that holds the boundary the seed would give: the boundary grows.
    const clash = encodeMultipart({ a: `--${first.boundary}--` }, 'seed');
    expect(clash.boundary).not.toBe(first.boundary);
    expect(clash.bytes.toString('utf8').split(`--${clash.boundary}`)).toHaveLength(3);
  });

  it('write text and binary as their bytes, and nothing for none', () => {
    expect(encodeBody('héllo {x}', 'text', 's')?.bytes.toString('utf8')).toBe('héllo {x}');
    expect(encodeBody('x', 'text', 's')?.contentType).toBe('text/plain; charset=utf-8');
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const binary = encodeBody({ $base64: bytes.toString('base64') }, 'binary', 's');
    expect(binary?.bytes).toEqual(bytes);
    expect(binary?.contentType).toBe('application/octet-stream');
    expect(encodeBody({ a: 1 }, 'none', 's')).toBeNull();
    expect(encodeBody(undefined, 'json', 's')).toBeNull();
  });

  it('refuse values that do not fit the encoding, saying what was expected', () => {
    expect(() => encodeBody({ a: 1 }, 'text', 's')).toThrow(BodyError);
    expect(() => encodeBody({ a: 1 }, 'text', 's')).toThrow('a text body must be a string');
    expect(() => encodeBody(5, 'binary', 's')).toThrow('a binary body must be {$base64: …}');
    expect(() => encodeBody([1], 'form', 's')).toThrow('a form body must be an object');
    expect(() => encodeBody({ f: { $base64: 'AA==' } }, 'form', 's')).toThrow(
      'use encoding multipart',
    );
    expect(() => encodeBody('x', 'multipart', 's')).toThrow('a multipart body must be an object');
  });

  it('replace {{sink}} in strings only, leaving binary leaves alone', () => {
    expect(
      replaceInStrings(
        { a: '{{sink}}/x', b: [1, '{{sink}}'], c: { $base64: '{{sink}}' } },
        '{{sink}}',
        'http://s',
      ),
    ).toEqual({ a: 'http://s/x', b: [1, 'http://s'], c: { $base64: '{{sink}}' } });
  });
});

describe('the different request of a mismatch test', () => {
  const encode = (value: unknown, encoding: 'json' | 'form' | 'multipart' | 'text' | 'binary') =>
    encodeBody(value, encoding, 'seed')?.bytes;

  it('differs in its bytes for every encoding', () => {
    const record = { amount: 5, note: 'x', file: { $base64: 'AAEC' } };
    for (const encoding of ['json', 'form', 'multipart'] as const) {
      const different = differentPayload(
        encoding === 'multipart' ? record : { amount: 5 },
        undefined,
        encoding,
      );
      expect(encode(different, encoding)).not.toEqual(
        encode(encoding === 'multipart' ? record : { amount: 5 }, encoding),
      );
    }
    expect(differentPayload('hello', undefined, 'text')).toBe('hello-different');
    for (const bytes of [[1, 2, 3], [], [255]]) {
      const original = { $base64: Buffer.from(bytes).toString('base64') };
      const different = differentPayload(original, undefined, 'binary');
      expect(encode(different, 'binary')).not.toEqual(encode(original, 'binary'));
    }
    expect(differentBody(undefined, 'none', (record) => record)).toBeUndefined();
  });

  it('merges fields in either form of `different`, and keeps the body when only other parts change', () => {
    expect(differentPayload({ a: 1, b: 2 }, { a: 9 })).toEqual({ a: 9, b: 2 });
    expect(differentPayload({ a: 1, b: 2 }, { fields: { a: 9 } })).toEqual({ a: 9, b: 2 });
    expect(differentPayload({ a: 1 }, { query: { page: '2' } })).toEqual({ a: 1 });
    expect(differentPayload({ a: 1 }, { headers: { 'X-A': 'b' }, path: '/other' })).toEqual({
      a: 1,
    });
    // A body field called "query" whose value is not a set of parameters: the older form.
    expect(differentPayload({ query: 'a' }, { query: 'b' })).toEqual({ query: 'b' });
  });
});
