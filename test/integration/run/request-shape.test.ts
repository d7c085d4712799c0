import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HistoryEvent } from '../../../src/history/events.js';
import { runSuite } from '../../../src/run/run.js';
import {
  startRecordingTarget,
  type RecordedArrival,
  type RecordingTarget,
} from '../../support/recording-target.js';

/**
 * Any request shape, seen from a real server: GET, HEAD and OPTIONS with a key; a query from
 * the path template, target.query and per-attempt overrides; each body encoding; header names
 * in the case the scenario wrote them (raw names on the wire); fixed, empty, long and
 * non-ASCII keys.
 */

const BLOB = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x2d, 0x2d]);
const NON_ASCII_KEY = 'clé-ключ-🙂';
const LONG_KEY = 'k'.repeat(300);

const COMMON = `effects: { http: { url: '/things?key={{key}}', count: $.count } }
settleMs: 0
`;

const methodScenario = (method: string): string => `name: method ${method}
target:
  baseUrl: http://127.0.0.1:1
  method: ${method}
  path: /shape/method/${method}/{{marker}}?fixed=1
  query: { page: '2' }
  headers: { X-Mixed-Case: Value }
payload: { encoding: none }
${COMMON}patterns:
  - kind: sequential-duplicates
    count: 2
    first:
      query: { attempt: first }
      headers: { X-First: 'yes' }
    retries:
      query: { attempt: retry, fixed: null }
`;

const BODIES: Record<string, string> = {
  json: `{ amount: 5, note: 'n-{{marker}}', nested: { list: [1, 2] } }`,
  form: `{ amount: 2000, currency: usd, metadata: { order_id: '{{n}}' }, items: [{ price: p_1 }] }`,
  multipart: `{ title: 'résumé', tags: [a, b], upload: { $file: ./blob.bin, contentType: image/png } }`,
  text: `'hello {{marker}}'`,
  binary: `{ $file: ./blob.bin }`,
};

const bodyScenario = (encoding: string): string => `name: body ${encoding}
target:
  baseUrl: http://127.0.0.1:1
  path: /shape/body/${encoding}
payload:
  encoding: ${encoding}
  template: ${BODIES[encoding] ?? ''}
${COMMON}patterns:
  - kind: sequential-duplicates
    count: 2
`;

const KEYS_SCENARIO = `name: keys
target:
  baseUrl: http://127.0.0.1:1
  path: /shape/keys/{{n}}
payload: { template: { a: 1 } }
${COMMON}patterns:
  - { kind: sequential-duplicates, count: 2, name: fixed, key: fixed-key }
  - { kind: sequential-duplicates, count: 2, name: empty, key: '' }
  - { kind: sequential-duplicates, count: 2, name: long, key: ${LONG_KEY} }
  - { kind: sequential-duplicates, count: 2, name: non-ascii, key: '${NON_ASCII_KEY}' }
`;

type Invoke = Extract<HistoryEvent, { type: 'invoke' }>;

/** The raw header names and values of an arrival, names as they came. */
function raw(arrival: RecordedArrival): [string, string][] {
  const pairs: [string, string][] = [];
  for (let index = 0; index + 1 < arrival.rawHeaders.length; index += 2)
    pairs.push([arrival.rawHeaders[index] ?? '', arrival.rawHeaders[index + 1] ?? '']);
  return pairs;
}

const headerOf = (arrival: RecordedArrival, name: string): string | undefined =>
  raw(arrival).find(([header]) => header.toLowerCase() === name.toLowerCase())?.[1];

describe('any request shape, as a real server receives it', () => {
  let folder: string;
  let target: RecordingTarget;
  let history: readonly HistoryEvent[];

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-shape-'));
    target = await startRecordingTarget();
    await writeFile(join(folder, 'blob.bin'), BLOB);
    const files: string[] = [];
    const add = async (name: string, text: string): Promise<void> => {
      files.push(join(folder, name));
      await writeFile(join(folder, name), text);
    };
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      await add(`method-${method}.yaml`, methodScenario(method));
    for (const encoding of Object.keys(BODIES))
      await add(`body-${encoding}.yaml`, bodyScenario(encoding));
    await add('keys.yaml', KEYS_SCENARIO);
    const run = await runSuite({
      paths: files,
      target: target.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, 'reports'),
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      progress: () => undefined,
      interactive: false,
    });
    history = run.history;
    for (const scenario of run.result.scenarios) expect(scenario.error, scenario.name).toBeNull();
  });
  afterAll(async () => {
    await target.close();
    await rm(folder, { recursive: true, force: true });
  });

  const arrivals = (prefix: string): RecordedArrival[] =>
    target.requests.filter((request) => request.url.startsWith(prefix));

  it.each(['GET', 'HEAD', 'OPTIONS'])(
    'sends %s with the key, the query from every source, per-attempt changes and header case kept',
    (method) => {
      const seen = arrivals(`/shape/method/${method}/`);
      expect(seen.map((request) => request.method)).toEqual([method, method]);
      const [first, retry] = seen;
      expect(first?.url).toMatch(
        new RegExp(`^/shape/method/${method}/[^/?]+\\?fixed=1&page=2&attempt=first$`),
      );
      expect(retry?.url).toMatch(
        new RegExp(`^/shape/method/${method}/[^/?]+\\?page=2&attempt=retry$`),
      );
      for (const request of seen) {
        const names = raw(request).map(([name]) => name);
        expect(names).toContain('X-Mixed-Case');
        expect(names).toContain('Idempotency-Key');
        expect(names).not.toContain('x-mixed-case');
        expect(headerOf(request, 'content-type')).toBeUndefined();
        expect(request.body.length).toBe(0);
      }
      expect(headerOf(first as RecordedArrival, 'X-First')).toBe('yes');
      expect(headerOf(retry as RecordedArrival, 'X-First')).toBeUndefined();
      expect(headerOf(first as RecordedArrival, 'Idempotency-Key')).toBe(
        headerOf(retry as RecordedArrival, 'Idempotency-Key'),
      );
    },
  );

  it('sends each body encoding as its bytes and Content-Type, both attempts alike', async () => {
    const of = (encoding: string): RecordedArrival => {
      const seen = arrivals(`/shape/body/${encoding}`);
      expect(seen).toHaveLength(2);
      expect(seen[1]?.body).toEqual(seen[0]?.body);
      expect(raw(seen[0] as RecordedArrival).map(([name]) => name)).toContain('Content-Type');
      return seen[0] as RecordedArrival;
    };
    const json = of('json');
    expect(headerOf(json, 'content-type')).toBe('application/json');
    expect(JSON.parse(json.body.toString('utf8'))).toMatchObject({
      amount: 5,
      nested: { list: [1, 2] },
    });

    const form = of('form');
    expect(headerOf(form, 'content-type')).toBe('application/x-www-form-urlencoded');
    const params = new URLSearchParams(form.body.toString('utf8'));
    expect(params.get('amount')).toBe('2000');
    expect(params.get('metadata[order_id]')).toMatch(/^\d+$/);
    expect(params.get('items[0][price]')).toBe('p_1');

    const multipart = of('multipart');
    const type = headerOf(multipart, 'content-type') ?? '';
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    const parsed = await new Response(new Uint8Array(multipart.body), {
      headers: { 'content-type': type },
    }).formData();
    expect(parsed.get('title')).toBe('résumé');
    expect(parsed.getAll('tags')).toEqual(['a', 'b']);
    const upload = parsed.get('upload') as File;
    expect(upload.name).toBe('blob.bin');
    expect(upload.type).toBe('image/png');
    expect(Buffer.from(await upload.arrayBuffer())).toEqual(BLOB);

    const text = of('text');
    expect(headerOf(text, 'content-type')).toBe('text/plain; charset=utf-8');
    expect(text.body.toString('utf8')).toMatch(/^hello \S+$/);

    const binary = of('binary');
    expect(headerOf(binary, 'content-type')).toBe('application/octet-stream');
    expect(binary.body).toEqual(BLOB);
    // The history keeps the binary bodies in base64, byte for byte.
    const recorded = history.filter(
      (event): event is Invoke => event.type === 'invoke' && event.scenario === 'body binary',
    );
    expect(recorded.map((event) => event.request.bodyEncoding)).toEqual(['base64', 'base64']);
    expect(Buffer.from(recorded[0]?.request.body ?? '', 'base64')).toEqual(BLOB);
  });

  it('sends fixed, empty, long and non-ASCII keys, and records them readably', () => {
    const keyed = history.filter(
      (event): event is Invoke => event.type === 'invoke' && event.scenario === 'keys',
    );
    expect(keyed.map((event) => event.key)).toEqual([
      'fixed-key',
      'fixed-key',
      '',
      '',
      LONG_KEY,
      LONG_KEY,
      NON_ASCII_KEY,
      NON_ASCII_KEY,
    ]);
    const sent = arrivals('/shape/keys/').map((request) => headerOf(request, 'Idempotency-Key'));
    expect(sent.map((value) => Buffer.from(value ?? 'absent', 'latin1').toString('utf8'))).toEqual(
      keyed.map((event) => event.key),
    );
    const recorded = keyed.at(-1)?.request.headers.find(([name]) => name === 'Idempotency-Key');
    expect(recorded?.[1]).toBe(NON_ASCII_KEY);
  });
});
