import { headerValue, type RecordedRequest } from '../history/events.js';
import type { FingerprintScope } from '../scenario/profile.js';

/**
 * Which parts of two recorded requests under one key differ, and whether a difference lies
 * inside the profile's fingerprint (body, query, path, named headers). A request that differs
 * only outside it is the same request to the API, which may replay it.
 *
 * Must not: judge responses (the checkers do), or treat headers the profile does not name as
 * part of the fingerprint.
 */

function target(request: RecordedRequest): URL {
  return new URL(request.targetUrl);
}

function sortedQuery(url: URL): string {
  const params = [...url.searchParams.entries()].sort(([a, x], [b, y]) =>
    a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1,
  );
  return new URLSearchParams(params).toString();
}

function bodyIdentity(request: RecordedRequest): string {
  return `${request.bodyEncoding ?? 'text'}:${request.bodySha256 ?? request.body ?? ''}`;
}

/** The parts in which `request` differs from `original`: body, query, path, header <name>. */
export function differingParts(
  request: RecordedRequest,
  original: RecordedRequest,
  headers: readonly string[],
): string[] {
  const [url, first] = [target(request), target(original)];
  return [
    ...(bodyIdentity(request) !== bodyIdentity(original) ? ['body'] : []),
    ...(sortedQuery(url) !== sortedQuery(first) ? ['query'] : []),
    ...(url.pathname !== first.pathname ? ['path'] : []),
    ...headers
      .filter((name) => headerValue(request.headers, name) !== headerValue(original.headers, name))
      .map((name) => `header ${name}`),
  ];
}

/**
 * The parts of `request`'s difference from `original` that the fingerprint covers; empty when
 * it differs only outside the fingerprint (or not at all).
 */
export function fingerprintDifference(
  request: RecordedRequest,
  original: RecordedRequest,
  scope: FingerprintScope,
): string[] {
  return differingParts(request, original, scope.headers).filter(
    (part) =>
      part === 'body' || part === 'query' || part === 'path'
        ? scope[part]
        : true /* only the named headers were compared */,
  );
}
