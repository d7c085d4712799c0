import { describe, expect, it } from 'vitest';
import { planScenario } from '../../../src/plan/plan.js';
import type { PatternPlan, SendStep, Step } from '../../../src/plan/schedule.js';
import { mergeOverrides } from '../../../src/plan/override.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';
import { buildRequest, pathWithQuery, recordedBody } from '../../../src/run/request-build.js';
import { crossFieldProblems } from '../../../src/scenario/cross-field.js';

function scenario(extra: Partial<ScenarioInput>, patterns: ScenarioInput['patterns']) {
  return scenarioSchema.parse({
    name: 'shape',
    target: { baseUrl: 'http://127.0.0.1:1/api', path: '/things', ...extra.target },
    payload: { template: { amount: 5 } },
    effects: { http: { url: '/things?key={{key}}' } },
    ...extra,
    patterns,
  });
}

const sends = (plan: PatternPlan): SendStep[] =>
  plan.steps.flatMap((step: Step) =>
    step.kind === 'send' ? [step] : step.kind === 'burst' ? [...step.sends] : [],
  );

/** Builds every attempt of the first pattern, as the executor would. */
function build(input: ReturnType<typeof scenario>) {
  const [plan] = planScenario(input, PROFILES.stripe, { seed: 1, run: 'r1' });
  if (plan === undefined) throw new Error('no plan');
  return sends(plan).map((send) => {
    const operation = plan.operations[send.op];
    if (operation === undefined) throw new Error('no operation');
    return buildRequest({
      scenario: input,
      targetBase: input.target.baseUrl,
      laneAddress: '127.0.0.1:9',
      planHeaders: plan.headers,
      operation,
      send,
      vars: {
        key: operation.key,
        tenant: send.tenant ?? '',
        marker: operation.marker,
        resource: operation.resource ?? '',
        run: 'r1',
        n: '',
        sink: 'http://sink',
      },
      sinkUrl: 'http://sink',
    });
  });
}

describe('request building', () => {
  it('keeps header names as written and replaces a header set again in another case', () => {
    const [request] = build(
      scenario(
        {
          target: {
            baseUrl: 'http://127.0.0.1:1',
            path: '/things',
            headers: { 'X-Mixed-Case': 'a', 'content-TYPE': 'application/vnd.x+json' },
          },
        },
        [{ kind: 'sequential-duplicates', count: 2, headers: { 'x-mixed-case': 'b' } }],
      ),
    );
    const names = request?.recorded.headers.map(([name]) => name);
    expect(names).toEqual(['host', 'content-TYPE', 'x-mixed-case', 'Idempotency-Key']);
    expect(request?.recorded.headers.find(([name]) => name === 'x-mixed-case')?.[1]).toBe('b');
  });

  it('applies `first` to the first attempt of an operation and `retries` to the others', () => {
    const built = build(
      scenario({}, [
        {
          kind: 'sequential-duplicates',
          count: 3,
          first: { headers: { 'X-Trusted': 'yes' }, query: { attempt: 'first' } },
          retries: { headers: { 'X-Trusted': null }, body: { amount: { $int: [7, 7] } } },
        },
      ]),
    );
    expect(built.map((request) => request.url)).toEqual([
      'http://127.0.0.1:9/api/things?attempt=first',
      'http://127.0.0.1:9/api/things',
      'http://127.0.0.1:9/api/things',
    ]);
    expect(
      built.map((request) => request.recorded.headers.some(([n]) => n === 'X-Trusted')),
    ).toEqual([true, false, false]);
    expect(built.map((request) => request.body?.toString('utf8'))).toEqual([
      '{"amount":5}',
      '{"amount":7}',
      '{"amount":7}',
    ]);
  });

  it('applies `retries` with a count on lost-response', () => {
    const built = build(
      scenario({}, [{ kind: 'lost-response', retries: { count: 3, headers: { 'X-Retry': '1' } } }]),
    );
    expect(built).toHaveLength(4);
    expect(built.map((request) => request.recorded.headers.some(([n]) => n === 'X-Retry'))).toEqual(
      [false, true, true, true],
    );
  });

  it('merges the path’s query, target.query and overrides: set replaces, null removes', () => {
    const vars = { key: 'k', tenant: 't', marker: 'm 1', resource: '', run: 'r', n: '', sink: '' };
    expect(
      pathWithQuery('/s?a=1&b=x+y&a=2', vars, [{ c: '{{marker}}' }, { a: '3', b: null }]),
    ).toBe('/s?a=3&c=m%201');
    expect(pathWithQuery('/s/{{marker}}', vars, [])).toBe('/s/m%201');
    expect(pathWithQuery('/s?', vars, [])).toBe('/s?');
  });

  it('sends the different variant’s query, path and headers under the same key', () => {
    const built = build(
      scenario(
        {
          target: { baseUrl: 'http://127.0.0.1:1', path: '/things', query: { page: '1' } },
          payload: {
            template: { amount: 5 },
            different: { query: { page: '2' }, path: '/other?x=1', headers: { 'X-V': '2' } },
          },
        },
        [{ kind: 'payload-mismatch', concurrent: 0 }],
      ),
    );
    const [original, different] = built;
    expect(original?.url).toBe('http://127.0.0.1:9/things?page=1');
    expect(different?.url).toBe('http://127.0.0.1:9/other?x=1&page=2');
    expect(different?.recorded.headers).toContainEqual(['X-V', '2']);
    expect(different?.key).toBe(original?.key);
    expect(different?.body).toEqual(original?.body);
  });

  it('sends any key: a pattern’s fixed, empty, long or non-ASCII template, quoted or not', () => {
    const long = 'k'.repeat(300);
    for (const [template, quoted, wire] of [
      ['', false, ''],
      [long, false, long],
      ['clé-ключ', false, Buffer.from('clé-ключ', 'utf8').toString('latin1')],
      ['clé', true, Buffer.from('"clé"', 'utf8').toString('latin1')],
    ] as const) {
      const [request] = build(
        scenario({ key: { template: 'k-{{n}}', quoted } }, [
          { kind: 'sequential-duplicates', count: 2, key: template },
        ]),
      );
      expect(request?.key).toBe(template);
      const sent = request?.wireHeaders.find(([name]) => name === 'Idempotency-Key')?.[1];
      expect(sent).toBe(wire);
      // Recorded readably.
      expect(request?.recorded.headers).toContainEqual([
        'Idempotency-Key',
        quoted ? `"${template}"` : template,
      ]);
    }
  });

  it('records bodies that are not UTF-8 in base64, and text as text', () => {
    expect(recordedBody(Buffer.from('é', 'utf8'))).toEqual({ body: 'é' });
    expect(recordedBody(Buffer.from([0xff, 0x00]))).toEqual({
      body: '/wA=',
      bodyEncoding: 'base64',
    });
    expect(recordedBody(null)).toEqual({ body: null });
  });

  it('uses GET, HEAD and OPTIONS with no body when the encoding is none', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS'] as const) {
      const [request] = build(
        scenario(
          {
            target: { baseUrl: 'http://127.0.0.1:1', path: '/things', method },
            payload: { encoding: 'none' },
          },
          [{ kind: 'sequential-duplicates', count: 2 }],
        ),
      );
      expect(request?.method).toBe(method);
      expect(request?.body).toBeNull();
      expect(
        request?.recorded.headers.some(([name]) => name.toLowerCase() === 'content-type'),
      ).toBe(false);
    }
  });

  it('merges overrides: header names case-insensitively, query per name', () => {
    expect(
      mergeOverrides(
        { headers: { 'X-A': '1', 'X-B': '2' }, query: { a: '1' }, key: 'k1' },
        { headers: { 'x-a': null }, query: { b: '2' } },
      ),
    ).toEqual({ headers: { 'X-B': '2', 'x-a': null }, query: { a: '1', b: '2' }, key: 'k1' });
  });
});

describe('request-shape rules', () => {
  const problems = (extra: Partial<ScenarioInput>, patterns: ScenarioInput['patterns']) =>
    crossFieldProblems(scenario(extra, patterns)).map(
      (problem) => `${problem.path.join('.')}: ${problem.message}`,
    );

  it('allow fixed keys where a pattern has one operation, and name the pattern that needs more', () => {
    expect(problems({}, [{ kind: 'sequential-duplicates', key: 'fixed' }])).toEqual([]);
    expect(problems({ key: { template: 'fixed' } }, [{ kind: 'lost-request' }])).toEqual([]);
    expect(problems({}, [{ kind: 'concurrent-burst', name: 'bursts', key: '' }])).toEqual([
      'patterns.0.key: pattern \'bursts\' needs 3 distinct keys, but the key template "" gives them all one key: add {{n}} or {{marker}}',
    ]);
    expect(
      problems({ key: { template: 'fixed' } }, [{ kind: 'lost-request' }, { kind: 'missing-key' }]),
    ).toEqual([
      'key.template: the key template "fixed" gives patterns lost-request (#1), missing-key (#2) one shared key: add {{n}} or {{marker}}, or give those patterns a key of their own',
    ]);
  });

  it('refuse bodies that do not fit their encoding, and a mismatch test that cannot differ', () => {
    expect(
      problems({ payload: { encoding: 'text', template: { a: 1 } } }, [{ kind: 'lost-request' }]),
    ).toEqual(['payload.template: a text body must be a string']);
    expect(
      problems({ payload: { encoding: 'none' } }, [{ kind: 'payload-mismatch', name: 'pm' }]),
    ).toEqual([
      "patterns.0.kind: pattern 'pm' needs a different request, but encoding none has no body to change: set payload.different.query, path or headers",
    ]);
    expect(
      problems({ payload: { encoding: 'none', different: { query: { a: 'b' } } } }, [
        { kind: 'payload-mismatch' },
      ]),
    ).toEqual([]);
    expect(
      problems({ payload: { encoding: 'binary', template: 'x' } }, [
        { kind: 'lost-request', first: { body: [1] } },
      ]),
    ).toEqual([
      'patterns.0.first.body: a binary body must be {$base64: …}, {$file: ./file} or a string',
    ]);
  });

  it('check the templates of query, overrides and keys for unknown variables', () => {
    expect(
      problems({ target: { baseUrl: 'http://x', path: '/p', query: { a: '{{nope}}' } } }, [
        { kind: 'lost-request', key: '{{what}}', retries: { count: 1, headers: { X: '{{huh}}' } } },
      ]),
    ).toEqual([
      expect.stringContaining('target.query.a: unknown template variable {{nope}}'),
      expect.stringContaining('patterns.0.retries.headers.X: unknown template variable {{huh}}'),
      expect.stringContaining('patterns.0.key: unknown template variable {{what}}'),
    ]);
  });
});
