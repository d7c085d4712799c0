import { describe, expect, it } from 'vitest';
import { isValidRetryAfter, refusalContents } from '../../../src/check/refusals.js';
import {
  overrideProfile,
  PROFILES,
  type Profile,
  type RefusalRules,
} from '../../../src/scenario/profile.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';
import { onlyAnomaly } from './expect-anomaly.js';
import { HistoryBuilder, payment, type ResponseSpec } from './history-builder.js';

const NOTHING: RefusalRules = {
  retryAfter: 'optional',
  problemJson: false,
  codes: null,
  mismatchBody: [],
};
const withRules = (rules: Partial<RefusalRules>, base: Profile = PROFILES.default): Profile =>
  overrideProfile(base, { refusals: { ...NOTHING, ...rules } });

const check = (h: HistoryBuilder, profile: Profile) => refusalContents(h.history(), { profile });

const PROBLEM = ['content-type', 'application/problem+json'] as const;
const problem = (
  status: number,
  extra: Record<string, unknown> = {},
  headers: readonly (readonly [string, string])[] = [PROBLEM],
): ResponseSpec => ({
  status,
  headers,
  body: { type: 'https://example.com/idempotency', title: 'Refused', status, ...extra },
});

/** A key's first attempt succeeds; a duplicate released with it gets `refusal`. */
function inFlight(refusal: ResponseSpec): HistoryBuilder {
  const h = new HistoryBuilder();
  const first = h.invoke({ group: 'g1', patternKind: 'concurrent-burst' });
  const second = h.invoke({ group: 'g1', patternKind: 'concurrent-burst' });
  h.ok(second, refusal);
  h.ok(first, { status: 201, body: payment('pay_1') });
  return h;
}

/** A key's first attempt succeeds; the same key with another payload gets `refusal`. */
function mismatch(refusal: ResponseSpec): HistoryBuilder {
  const h = new HistoryBuilder();
  h.send({ patternKind: 'payload-mismatch' }, { status: 201, body: payment('pay_1') });
  h.send({ patternKind: 'payload-mismatch', variant: 'different' }, refusal);
  return h;
}

function missingKey(refusal: ResponseSpec): HistoryBuilder {
  const h = new HistoryBuilder();
  h.send({ key: null, keySent: false, patternKind: 'missing-key' }, refusal);
  return h;
}

describe('refusalContents', () => {
  it('is not applicable when the profile asks refusals for nothing', () => {
    const result = check(inFlight({ status: 409 }), withRules({}));
    expect(result).toMatchObject({ valid: true, checked: 0 });
    expect(result.notes[0]).toMatch(/^not applicable: the profile asks refusals for nothing/);
  });

  describe('Retry-After', () => {
    const required = withRules({ retryAfter: 'required' });

    it('holds when an in-flight refusal carries delay-seconds or an HTTP-date', () => {
      for (const value of ['1', '120', 'Sun, 06 Nov 1994 08:49:37 GMT']) {
        const result = check(
          inFlight({ status: 409, headers: [['Retry-After', value]] }),
          required,
        );
        expect(result, value).toMatchObject({ valid: true, checked: 1, anomalies: [] });
      }
    });

    it('reports an in-flight refusal without Retry-After, with the request and response', () => {
      const h = inFlight({ status: 409, body: { title: 'in progress' } });
      const anomaly = onlyAnomaly(check(h, required), 'refusal-missing-retry-after');
      expect(anomaly.message).toMatch(
        /^'attempt 2' \(lane clean\) got 409 \(refused in flight\) without a Retry-After header/,
      );
      expect(anomaly.events).toEqual([1, 2]);
      expect(anomaly.key).toBe('k-1');
      expect(anomaly.curl).toContain('idempotency-key');
    });

    it('reports a Retry-After that is neither seconds nor an HTTP-date, or is sent twice', () => {
      const bad = inFlight({ status: 409, headers: [['Retry-After', 'soon']] });
      const anomaly = onlyAnomaly(check(bad, required), 'refusal-invalid-retry-after');
      expect(anomaly.actual).toBe('Retry-After: soon');
      const twice = inFlight({
        status: 409,
        headers: [
          ['Retry-After', '1'],
          ['Retry-After', '2'],
        ],
      });
      onlyAnomaly(check(twice, required), 'refusal-invalid-retry-after');
    });

    it('judges every 429, with or without a key, and not mismatch or missing-key refusals', () => {
      const h = new HistoryBuilder();
      h.send({ patternKind: 'sequential-duplicates' }, { status: 429 });
      h.send({ key: null, keySent: false, patternKind: 'missing-key' }, { status: 429 });
      h.send({ key: null, keySent: false, patternKind: 'missing-key' }, { status: 400 });
      h.send({ variant: 'different', patternKind: 'payload-mismatch' }, { status: 409 });
      const result = check(h, required);
      expect(result.anomalies.map((a) => [a.kind, a.events[0]])).toEqual([
        ['refusal-missing-retry-after', 0],
        ['refusal-missing-retry-after', 2],
      ]);
      expect(result.anomalies[0]?.message).toContain('got 429 (rate-limited) without');
    });

    it('reads an original answered 409 after a different payload as a mismatch, not in flight', () => {
      const h = new HistoryBuilder();
      h.send({ variant: 'different', patternKind: 'payload-mismatch' }, { status: 201 });
      h.send({ patternKind: 'payload-mismatch' }, { status: 409 });
      expect(check(h, required)).toMatchObject({ valid: true, checked: 0 });
    });

    it('leaves scripted steps to stepExpectations', () => {
      const h = new HistoryBuilder();
      h.send({ patternKind: 'steps', group: 'g' }, { status: 409 });
      expect(check(h, required).checked).toBe(0);
    });
  });

  it('accepts the three HTTP-date forms and delay-seconds only', () => {
    expect(isValidRetryAfter('0')).toBe(true);
    expect(isValidRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(true);
    expect(isValidRetryAfter('Sun Nov  6 08:49:37 1994')).toBe(true);
    expect(isValidRetryAfter('-1')).toBe(false);
    expect(isValidRetryAfter('1.5')).toBe(false);
    expect(isValidRetryAfter('Sun, 06 Nov 1994 08:49:37 UTC')).toBe(false);
    expect(isValidRetryAfter('Sun, 36 Nov 1994 08:49:37 GMT')).toBe(false);
  });

  describe('problem details', () => {
    const problems = withRules({ problemJson: true });

    it('holds for problem details on in-flight, mismatch and missing-key refusals', () => {
      expect(check(inFlight(problem(409)), problems)).toMatchObject({ valid: true, checked: 1 });
      expect(check(mismatch(problem(409)), problems)).toMatchObject({ valid: true, checked: 1 });
      const keyless = problem(400, { type: 'about:blank', detail: 'send a key' }, [
        ['Content-Type', 'application/problem+json; charset=utf-8'],
      ]);
      expect(check(missingKey(keyless), problems)).toMatchObject({ valid: true, checked: 1 });
    });

    it('reports a refusal with another Content-Type', () => {
      const anomaly = onlyAnomaly(
        check(mismatch({ status: 409, body: { error: 'reused' } }), problems),
        'refusal-not-problem-json',
      );
      expect(anomaly.actual).toBe('its Content-Type is application/json');
      expect(anomaly.message).toContain(
        'got 409 (a mismatch refused), which is not RFC 9457 problem details',
      );
    });

    it('reports a problem body whose members have the wrong types or status', () => {
      const cases: [ResponseSpec, string][] = [
        [problem(409, { status: 500 }), '"status" is 500, not 409'],
        [problem(409, { type: 'not a uri' }), '"type" is "not a uri", not a URI reference'],
        [problem(409, { type: 7 }), '"type" is 7, not a URI reference'],
        [problem(409, { title: ['x'] }), '"title" is not a string'],
        [problem(409, { detail: 3 }), '"detail" is not a string'],
        [{ status: 409, headers: [PROBLEM], body: '[1]' }, 'the body is not a JSON object'],
        [{ status: 409, headers: [PROBLEM], body: 'nope' }, 'the body is not JSON'],
      ];
      for (const [response, fault] of cases) {
        const anomaly = onlyAnomaly(
          check(inFlight(response), problems),
          'refusal-not-problem-json',
        );
        expect(anomaly.actual, fault).toBe(fault);
      }
    });

    it('is unknown when the problem body was cut at the recording limit', () => {
      const cut = { ...problem(409), recordedChars: 10 };
      expect(check(inFlight(cut), problems).valid).toBe('unknown');
    });

    it('does not ask a 429 to be problem details', () => {
      const h = new HistoryBuilder();
      h.send({}, { status: 429, body: 'slow down' });
      expect(check(h, problems).checked).toBe(0);
    });
  });

  describe('stable codes', () => {
    const codes = withRules({
      codes: { path: '$.error.code', inFlight: 'key_in_use', missingKey: 'key_missing' },
    });

    it('holds when each declared code is at its path', () => {
      const inUse = { status: 409, body: { error: { code: 'key_in_use' } } };
      expect(check(inFlight(inUse), codes)).toMatchObject({ valid: true, checked: 1 });
      const keyless = { status: 400, body: { error: { code: 'key_missing' } } };
      expect(check(missingKey(keyless), codes)).toMatchObject({ valid: true, checked: 1 });
      // No code is declared for a mismatch: its refusal is not judged.
      expect(check(mismatch({ status: 409 }), codes).checked).toBe(0);
    });

    it('reports a missing, different or unreadable code', () => {
      const cases: [ResponseSpec, string][] = [
        [{ status: 409, body: { error: { type: 'x' } } }, 'nothing at $.error.code'],
        [{ status: 409, body: { error: { code: 'busy' } } }, '$.error.code is "busy"'],
        [{ status: 409, body: 'busy' }, 'the body is not JSON'],
      ];
      for (const [response, actual] of cases) {
        const anomaly = onlyAnomaly(check(inFlight(response), codes), 'refusal-wrong-code');
        expect(anomaly.actual).toBe(actual);
        expect(anomaly.expected).toBe(
          '$.error.code = "key_in_use" (profile refusals.codes.inFlight)',
        );
      }
    });

    it('tells an in-flight refusal from a mismatch by its code when both share a status', () => {
      const h = new HistoryBuilder();
      h.send({ variant: 'different' }, { status: 409, body: { error: { code: 'key_in_use' } } });
      const rules = withRules({
        retryAfter: 'required',
        codes: { path: '$.error.code', inFlight: 'key_in_use' },
      });
      onlyAnomaly(check(h, rules), 'refusal-missing-retry-after');
    });

    it('is unknown, naming it, when the code path is not a JSON path', () => {
      const bad = withRules({ codes: { path: 'error.code', inFlight: 'key_in_use' } });
      const result = check(inFlight({ status: 409, body: {} }), bad);
      expect(result.valid).toBe('unknown');
      expect(result.notes[0]).toContain("refusals.codes.path 'error.code' is not a JSON path");
    });
  });

  describe('mismatch body', () => {
    const texts = withRules({ mismatchBody: ['idempotency_error', 'same parameters'] });

    it('holds when the mismatch refusal contains each text', () => {
      const body = { error: { type: 'idempotency_error', message: 'use the same parameters' } };
      expect(check(mismatch({ status: 409, body }), texts)).toMatchObject({
        valid: true,
        checked: 1,
      });
    });

    it('reports the texts a mismatch refusal lacks', () => {
      const body = { error: { type: 'invalid_request_error', message: 'use the same parameters' } };
      const anomaly = onlyAnomaly(
        check(mismatch({ status: 409, body }), texts),
        'refusal-body-missing-text',
      );
      expect(anomaly.expected).toBe(
        "a body containing 'idempotency_error' (profile refusals.mismatchBody)",
      );
    });
  });

  it('holds the built-in profiles to the rules their sources declare', () => {
    expect(PROFILES.default.refusals.retryAfter).toBe('required');
    expect(PROFILES.ietf.refusals.problemJson).toBe(true);
    const stripeInFlight = {
      status: 409,
      body: { error: { type: 'idempotency_error', code: 'idempotency_key_in_use' } },
    };
    expect(check(inFlight(stripeInFlight), PROFILES.stripe)).toMatchObject({ valid: true });
    const stripeMismatch = { status: 400, body: { error: { type: 'invalid_request_error' } } };
    onlyAnomaly(check(mismatch(stripeMismatch), PROFILES.stripe), 'refusal-body-missing-text');
  });

  it('takes overrides.refusals from a scenario whole, a field left out being neutral', () => {
    const scenario = (refusals: unknown) =>
      scenarioSchema.safeParse({
        name: 'refusals',
        target: { baseUrl: 'http://127.0.0.1:1', path: '/pay' },
        payload: { template: {} },
        profile: 'stripe',
        overrides: { refusals },
        patterns: [{ kind: 'sequential-duplicates' }],
      });
    const parsed = scenario({ retryAfter: 'required' });
    if (!parsed.success) throw parsed.error;
    expect(overrideProfile(PROFILES.stripe, parsed.data.overrides).refusals).toEqual({
      retryAfter: 'required',
      problemJson: false,
      codes: null,
      mismatchBody: [],
    });
    const bad = scenario({ codes: { path: '$.error.code', inflight: 'x' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({
      path: ['overrides', 'refusals', 'codes'],
      message: 'Unrecognized key: "inflight"',
    });
  });
});
