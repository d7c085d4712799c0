import { describe, expect, it } from 'vitest';
import { conflictOnMismatch } from '../../../src/check/conflict-on-mismatch.js';
import { differingParts, fingerprintDifference } from '../../../src/check/fingerprint.js';
import type { InvokeEvent, RecordedRequest } from '../../../src/history/events.js';
import { PROFILES, overrideProfile, type Profile } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment, TARGET } from './history-builder.js';

const mismatch = {
  variant: 'different',
  label: 'different payload',
  patternKind: 'payload-mismatch',
} as const;

/** A key's original request, then a "different" one changed only as `change` says. */
function history(change: (request: RecordedRequest) => RecordedRequest): HistoryBuilder {
  const h = new HistoryBuilder();
  const original = h.invoke({ label: 'original' });
  h.ok(original, { status: 201, body: payment('pay_1') });
  const different = h.invoke(mismatch);
  const index = h.events.indexOf(different);
  h.events[index] = { ...different, request: change(original.request) } satisfies InvokeEvent;
  // The API answered the "different" request with a replay of the first response.
  h.ok(h.events[index], { status: 201, body: payment('pay_1') });
  return h;
}

const check = (h: HistoryBuilder, profile: Profile) => conflictOnMismatch(h.history(), { profile });

const withHeader = (request: RecordedRequest, name: string, value: string): RecordedRequest => ({
  ...request,
  headers: [...request.headers, [name, value]],
});

describe('the fingerprint scope of a mismatch', () => {
  it('names the parts in which two requests differ', () => {
    const h = new HistoryBuilder();
    const first = h.invoke().request;
    const other: RecordedRequest = {
      ...withHeader(first, 'X-Channel', 'web'),
      targetUrl: `${TARGET}/x?b=2&a=1`,
      body: '{"amount":1}',
    };
    expect(differingParts(other, first, ['x-channel', 'x-other'])).toEqual([
      'body',
      'query',
      'path',
      'header x-channel',
    ]);
    // Query parameters in another order are the same query.
    const reordered = { ...first, targetUrl: `${TARGET}?b=2&a=1` };
    const ordered = { ...first, targetUrl: `${TARGET}?a=1&b=2` };
    expect(differingParts(reordered, ordered, [])).toEqual([]);
    const scope = { body: false, query: false, path: true, headers: [] };
    expect(fingerprintDifference(other, first, scope)).toEqual(['path']);
  });

  it('judges a request that differs only in its query when the query is in the fingerprint', () => {
    const h = history((request) => ({ ...request, targetUrl: `${TARGET}?page=2` }));
    const result = check(h, PROFILES.default);
    expect(result.valid).toBe(false);
    expect(result.anomalies[0]?.kind).toBe('mismatch-accepted');
  });

  it('lets the target replay a request that differs only outside the fingerprint', () => {
    const h = history((request) => ({ ...request, targetUrl: `${TARGET}?page=2` }));
    const profile = overrideProfile(PROFILES.default, {
      fingerprint: { body: true, query: false, path: true, headers: [] },
    });
    const result = check(h, profile);
    expect(result).toMatchObject({ valid: true, checked: 0, anomalies: [] });
    expect(result.notes.join(' ')).toContain(
      "differs from the original only outside the profile's fingerprint (query)",
    );
  });

  it('counts a header only when the profile names it', () => {
    const h = history((request) => withHeader(request, 'X-Channel', 'web'));
    expect(check(h, PROFILES.default).valid).toBe(true);
    const named = overrideProfile(PROFILES.default, {
      fingerprint: { body: true, query: true, path: true, headers: ['X-Channel'] },
    });
    expect(check(h, named).anomalies[0]?.kind).toBe('mismatch-accepted');
  });

  it('still judges a different body, whatever else the fingerprint leaves out', () => {
    const h = history((request) => ({ ...request, body: '{"amount":2500}' }));
    const profile = overrideProfile(PROFILES.default, {
      fingerprint: { body: true, query: false, path: false, headers: [] },
    });
    expect(check(h, profile).anomalies[0]?.kind).toBe('mismatch-accepted');
  });
});
