import type { RecordedResponse } from '../history/events.js';
import type { PathSegment } from './json-path.js';
import { removeAtPaths } from './json-path.js';
import { jsonEqual, parseJson } from './json-value.js';

/**
 * Are two response bodies the same? Byte identity (SHA-256 of the whole body) decides, unless
 * the profile ignores some JSON paths: then, when both bodies are complete JSON, those paths
 * are removed from both and the canonical JSON is compared instead.
 *
 * Must not: call bodies different when it cannot see them whole (a body cut at the recording
 * limit cannot have paths removed): that is 'unknown'.
 */
export type BodyComparison =
  | { readonly same: true }
  | { readonly same: false }
  | { readonly same: 'unknown'; readonly reason: string };

export function compareBodies(
  first: RecordedResponse,
  second: RecordedResponse,
  ignorePaths: readonly (readonly PathSegment[])[],
): BodyComparison {
  if (first.bodySha256 === second.bodySha256) return { same: true };
  if (ignorePaths.length === 0) return { same: false };
  if (first.bodyTruncated || second.bodyTruncated) {
    return {
      same: 'unknown',
      reason:
        'a body was cut at the recording limit, so the ignored JSON paths could not be removed ' +
        'before comparing (raise the recording limit, or stop ignoring paths)',
    };
  }
  const a = parseJson(first.body);
  const b = parseJson(second.body);
  if (!a.ok || !b.ok) return { same: false };
  return {
    same: jsonEqual(removeAtPaths(a.value, ignorePaths), removeAtPaths(b.value, ignorePaths)),
  };
}
