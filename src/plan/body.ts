import { createHash } from 'node:crypto';
import type { BodyEncoding } from './schedule.js';

/**
 * Request body encoders: a filled body value (plain data from a template) becomes the bytes
 * sent and their Content-Type. JSON; `application/x-www-form-urlencoded` nested as Stripe
 * writes it (`metadata[order_id]=6735`, `items[0][price]=p_1`); `multipart/form-data` with a
 * boundary derived from the operation, so the same plan always gives the same bytes; raw text;
 * binary from `{$base64: …}`; none.
 *
 * Must not: read files (the loader turns `{$file: …}` into `{$base64: …}`), fill templates,
 * or draw random values.
 */

export class BodyError extends Error {}

export interface EncodedBody {
  readonly bytes: Buffer;
  /** The Content-Type to send unless the scenario sets one. */
  readonly contentType: string;
}

/** A binary leaf: `{$base64: "…"}`, in multipart with an optional filename and type. */
export interface Base64Leaf {
  readonly $base64: string;
  readonly filename?: string;
  readonly contentType?: string;
}

export function isBase64Leaf(value: unknown): value is Base64Leaf {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { $base64?: unknown }).$base64 === 'string'
  );
}

export const CONTENT_TYPES: Readonly<Record<Exclude<BodyEncoding, 'none'>, string>> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  multipart: 'multipart/form-data',
  text: 'text/plain; charset=utf-8',
  binary: 'application/octet-stream',
};

/**
 * The bytes of `value` in `encoding`; null when there is no body (encoding none, or no
 * value). `seed` makes the multipart boundary (any text unique to the operation).
 */
export function encodeBody(
  value: unknown,
  encoding: BodyEncoding,
  seed: string,
): EncodedBody | null {
  if (encoding === 'none' || value === undefined) return null;
  switch (encoding) {
    case 'json':
      return { bytes: Buffer.from(JSON.stringify(value), 'utf8'), contentType: CONTENT_TYPES.json };
    case 'form':
      return { bytes: Buffer.from(encodeForm(value), 'utf8'), contentType: CONTENT_TYPES.form };
    case 'multipart': {
      const { bytes, boundary } = encodeMultipart(value, seed);
      return { bytes, contentType: `${CONTENT_TYPES.multipart}; boundary=${boundary}` };
    }
    case 'text':
      return {
        bytes: Buffer.from(scalarText(value, 'text'), 'utf8'),
        contentType: CONTENT_TYPES.text,
      };
    case 'binary':
      return { bytes: binaryBytes(value), contentType: CONTENT_TYPES.binary };
  }
}

/** A text or binary body's value: a string, or a number or boolean written out. */
function scalarText(value: unknown, encoding: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new BodyError(`a ${encoding} body must be a string, not ${describe(value)}`);
}

function binaryBytes(value: unknown): Buffer {
  if (isBase64Leaf(value)) return Buffer.from(value.$base64, 'base64');
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new BodyError(
    `a binary body must be {$base64: …}, {$file: ./file} or a string, not ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

/** A leaf value (string, number, boolean, null) as text; null is empty. */
function leafText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A name or value as a form writes it; brackets stay readable, as Stripe's libraries send. */
function formPart(text: string): string {
  return encodeURIComponent(text).replaceAll('%5B', '[').replaceAll('%5D', ']');
}

/**
 * `application/x-www-form-urlencoded` text: objects nest as `a[b]`, lists as `a[0]`, null as an
 * empty value (Stripe's way to unset a field). A string is sent as written (already encoded).
 */
export function encodeForm(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BodyError(`a form body must be an object of fields, not ${describe(value)}`);
  }
  const pairs: string[] = [];
  const walk = (name: string, item: unknown): void => {
    if (Array.isArray(item)) {
      item.forEach((inner, index) => walk(`${name}[${index}]`, inner));
    } else if (isBase64Leaf(item)) {
      throw new BodyError(`form field ${name} holds binary data: use encoding multipart`);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, inner] of Object.entries(item)) walk(`${name}[${key}]`, inner);
    } else {
      pairs.push(`${formPart(name)}=${formPart(leafText(item))}`);
    }
  };
  for (const [key, item] of Object.entries(value)) walk(key, item);
  return pairs.join('&');
}

/** A boundary that appears nowhere in the parts: derived from `seed`, longer if needed. */
function boundaryFor(seed: string, parts: readonly Buffer[]): string {
  const digest = createHash('sha256').update(seed).digest('hex');
  for (let length = 24; ; length += 8) {
    const boundary = `idemproof-${digest.slice(0, length)}${length > 64 ? length : ''}`;
    if (!parts.some((part) => part.includes(boundary))) return boundary;
  }
}

/** A field name in a Content-Disposition, escaped as browsers do. */
function dispositionName(text: string): string {
  return text.replaceAll('"', '%22').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

interface Part {
  readonly headers: string;
  readonly content: Buffer;
}

/**
 * `multipart/form-data`: each field a part; `{$base64, filename?, contentType?}` a file part;
 * a list repeats the field; an object is a JSON part; null is left out.
 */
export function encodeMultipart(
  value: unknown,
  seed: string,
): { readonly bytes: Buffer; readonly boundary: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BodyError(`a multipart body must be an object of fields, not ${describe(value)}`);
  }
  const parts: Part[] = [];
  const add = (name: string, item: unknown): void => {
    const disposition = `Content-Disposition: form-data; name="${dispositionName(name)}"`;
    if (item === null || item === undefined) return;
    if (Array.isArray(item)) {
      for (const inner of item) add(name, inner);
    } else if (isBase64Leaf(item)) {
      const filename = dispositionName(item.filename ?? name);
      parts.push({
        headers: `${disposition}; filename="${filename}"\r\nContent-Type: ${item.contentType ?? CONTENT_TYPES.binary}`,
        content: Buffer.from(item.$base64, 'base64'),
      });
    } else if (typeof item === 'object') {
      parts.push({
        headers: `${disposition}\r\nContent-Type: application/json`,
        content: Buffer.from(JSON.stringify(item), 'utf8'),
      });
    } else {
      parts.push({ headers: disposition, content: Buffer.from(leafText(item), 'utf8') });
    }
  };
  for (const [name, item] of Object.entries(value)) add(name, item);
  const boundary = boundaryFor(
    seed,
    parts.map((part) => part.content),
  );
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers}\r\n\r\n`, 'utf8'));
    chunks.push(part.content, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  return { bytes: Buffer.concat(chunks), boundary };
}

/** `value` with `from` replaced by `to` in every string (binary leaves left alone). */
export function replaceInStrings(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value.includes(from) ? value.replaceAll(from, to) : value;
  if (Array.isArray(value)) return value.map((item) => replaceInStrings(item, from, to));
  if (value !== null && typeof value === 'object' && !isBase64Leaf(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceInStrings(item, from, to)]),
    );
  }
  return value;
}

/**
 * A body surely different from `value` in `encoding`, for a mismatch test: structured bodies
 * (json, form, multipart) change one value (see `changeOneField`); text gets a suffix; binary
 * its last byte flipped (a zero byte when empty). Undefined for none: there is no body.
 */
export function differentBody(
  value: unknown,
  encoding: BodyEncoding,
  changeOneField: (record: Record<string, unknown>) => Record<string, unknown>,
): unknown {
  switch (encoding) {
    case 'none':
      return undefined;
    case 'text':
      return `${scalarText(value ?? '', 'text')}-different`;
    case 'binary': {
      const bytes = Buffer.from(binaryBytes(value ?? ''));
      const last = bytes.length - 1;
      const changed = last < 0 ? Buffer.from([0]) : bytes;
      if (last >= 0) changed[last] = (changed[last] ?? 0) ^ 0xff;
      return { $base64: changed.toString('base64') };
    }
    default:
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return encoding === 'form' && typeof value === 'string'
          ? `${value}&idemproof_variant=different`
          : { value, idemproof_variant: 'different' };
      }
      return changeOneField(value as Record<string, unknown>);
  }
}
