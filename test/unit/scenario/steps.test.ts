import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { loadScenarioFiles } from '../../../src/scenario/load.js';
import { stepProblems } from '../../../src/scenario/schema-steps.js';

const BASE = `name: steps
target: { baseUrl: 'http://127.0.0.1:8080', path: /echo }
payload: { encoding: text, template: hello }
effects: { http: { url: /counter, count: $.count } }
patterns:
  - kind: steps
    steps:
`;

describe('the steps pattern: loading', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-steps-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function load(steps: string): Promise<string> {
    const path = join(folder, 'steps.yaml');
    await writeFile(path, `${BASE}${steps}`);
    return loadScenarioFiles([path]).then(
      () => 'loaded',
      (error: unknown) => (isIdemproofError(error) ? error.message : String(error)),
    );
  }

  it('accepts every kind of step and expectation', async () => {
    const text = `      - id: original
        path: /slow?ms=1500
        expect: { status: 200, body: { equals: 'slept:1500' } }
      - id: duplicate
        concurrentWith: [original]
        delayMs: 300
        expect: { status: in-flight, effects: 1, headers: { Retry-After: { matches: '^[1-9][0-9]*$' } } }
      - { id: get, method: GET, encoding: none, key: { literal: k-get-1 }, expect: { body: { json: { count: 1 } } } }
      - { id: other, key: new, query: { a: '1', b: null }, headers: { X-Trace: t, Accept: null }, lane: lost-response }
      - { id: none, key: none, expect: { status: [400, 422], headers: { Content-Type: { present: true } } } }
      - { id: again, expect: { status: 2xx, body: { sameAs: original, contains: [slept], bytes: 10 } } }
`;
    expect(await load(text)).toBe('loaded');
  });

  it('points at the line of a reference to a step that is not earlier', async () => {
    const message = await load(`      - id: first
        concurrentWith: [later]
      - id: later
`);
    expect(message).toMatch(/steps\.yaml:9:\d+/);
    expect(message).toContain("'later' is not an earlier step");
  });

  it('points at a sameAs that names no earlier step, a repeated id and a bad regex', async () => {
    const message = await load(`      - id: first
        expect: { body: { sameAs: first } }
      - id: first
        expect: { headers: { Retry-After: { matches: '([' } } }
`);
    expect(message).toMatch(/steps\.yaml:9:\d+.*'first' is not an earlier step/s);
    expect(message).toMatch(/steps\.yaml:10:\d+.*step id 'first' is used twice/s);
    expect(message).toMatch(/steps\.yaml:11:\d+.*not a regular expression/s);
  });

  it('refuses a step tenant that target.tenants does not declare', async () => {
    expect(await load(`      - { id: a, tenant: mallory }\n`)).toMatch(
      /steps\.yaml:8:\d+.*unknown tenant 'mallory'/s,
    );
  });

  it('refuses an effect count without an effect probe', async () => {
    const path = join(folder, 'no-probe.yaml');
    await writeFile(
      path,
      `${BASE.replace('effects: { http: { url: /counter, count: $.count } }\n', '')}      - { id: a, expect: { effects: 1 } }\n`,
    );
    const message = await loadScenarioFiles([path]).then(
      () => 'loaded',
      (error: unknown) => String(error),
    );
    expect(message).toMatch(/no-probe\.yaml:7:\d+.*an effect count needs an effect probe/s);
  });

  it('refuses unknown fields, profile statuses and methods with their place', async () => {
    expect(await load(`      - { id: a, expect: { status: conflict } }\n`)).toMatch(
      /steps\.yaml:8:\d+/,
    );
    expect(await load(`      - { id: a, method: FETCH }\n`)).toMatch(/steps\.yaml:8:\d+/);
    expect(await load(`      - { id: a, expect: { bodyJson: {} } }\n`)).toMatch(
      /steps\.yaml:8:\d+/,
    );
    expect(await load(`      - { id: 2a }\n`)).toMatch(/a step id starts with a letter/);
  });
});

describe('stepProblems', () => {
  it('refuses a step joined by two concurrent groups', () => {
    expect(
      stepProblems([
        { id: 'a' },
        { id: 'b', concurrentWith: ['a'] },
        { id: 'c', concurrentWith: ['a'] },
      ]),
    ).toEqual([
      {
        path: ['steps', 2, 'concurrentWith', 0],
        message: "'a' already ended with an earlier concurrent group",
      },
    ]);
  });

  it('finds nothing wrong in a straight script', () => {
    expect(stepProblems([{ id: 'a' }, { id: 'b', expect: { body: { sameAs: 'a' } } }])).toEqual([]);
  });
});
