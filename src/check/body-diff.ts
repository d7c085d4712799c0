import type { RecordedResponse } from '../history/events.js';
import { removeAtPaths, type PathSegment } from './json-path.js';
import { describeJsonDifferences, jsonDifferences } from './json-diff.js';
import { parseJson } from './json-value.js';
import { shortDigest } from './wording.js';

/**
 * Says WHERE two response bodies differ, in one line an engineer can read at a glance:
 * for JSON, the differing paths with both values (`$.created_at: "…" vs "…"`, up to 5);
 * otherwise the first differing byte offset with about 40 characters of context from each.
 * Reporters (terminal, HTML) use it as well as the checkers.
 *
 * Must not: decide whether the difference matters; `compareBodies` and the checkers do.
 */
export type BodyLike = Pick<
  RecordedResponse,
  'body' | 'bodyBytes' | 'bodySha256' | 'bodyTruncated'
>;

export interface BodyDiffOptions {
  /** Paths removed from both JSON bodies before comparing (the profile's replayIgnore). */
  readonly ignoreJsonPaths?: readonly (readonly PathSegment[])[];
  /** How many JSON paths to show; 5 by default. */
  readonly maxPaths?: number;
}

const CONTEXT_BYTES = 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function describeBodyDifference(
  first: BodyLike,
  second: BodyLike,
  options: BodyDiffOptions = {},
): string {
  if (first.bodySha256 === second.bodySha256) return 'the bodies are byte-identical';
  if (!first.bodyTruncated && !second.bodyTruncated) {
    const a = parseJson(first.body);
    const b = parseJson(second.body);
    if (a.ok && b.ok) {
      const ignore = options.ignoreJsonPaths ?? [];
      const differences = jsonDifferences(
        removeAtPaths(a.value, ignore),
        removeAtPaths(b.value, ignore),
      );
      if (differences.length > 0)
        return describeJsonDifferences(differences, options.maxPaths ?? 5);
      return `the bodies hold the same JSON data but not the same bytes (${describeByteDifference(first, second)})`;
    }
  }
  return describeByteDifference(first, second);
}

/** Moves `offset` back (or forward) to the start of a UTF-8 character. */
function charBoundary(bytes: Uint8Array, offset: number, step: -1 | 1): number {
  let at = Math.max(0, Math.min(offset, bytes.length));
  while (at > 0 && at < bytes.length && ((bytes[at] ?? 0) & 0xc0) === 0x80) at += step;
  return at;
}

function context(bytes: Uint8Array, offset: number): string {
  const start = charBoundary(bytes, offset - CONTEXT_BYTES, -1);
  const end = charBoundary(bytes, offset + CONTEXT_BYTES, 1);
  const text = JSON.stringify(decoder.decode(bytes.subarray(start, end)));
  return `${start > 0 ? '…' : ''}${text}${end < bytes.length ? '…' : ''}`;
}

/** "first difference at byte 57: …"pending"… vs …"paid"…", or where one body ends. */
export function describeByteDifference(first: BodyLike, second: BodyLike): string {
  const a = encoder.encode(first.body);
  const b = encoder.encode(second.body);
  let offset = 0;
  while (offset < a.length && offset < b.length && a[offset] === b[offset]) offset += 1;
  if (offset < a.length && offset < b.length) {
    return `first difference at byte ${offset}: ${context(a, offset)} vs ${context(b, offset)}`;
  }
  const digests = `sha256 ${shortDigest(first.bodySha256)} vs ${shortDigest(second.bodySha256)}`;
  if (a.length === b.length) {
    return `the recorded ${a.length} bytes are identical; the bodies differ after the recording limit (${digests})`;
  }
  const [shorter, longer, which] =
    a.length < b.length ? [first, b, 'first'] : [second, a, 'second'];
  if (shorter.bodyTruncated) {
    return `the ${which} body was recorded only up to byte ${offset}, where the other continues with ${context(longer, offset)} (${digests})`;
  }
  return `the ${which} body ends at byte ${offset} (${shorter.bodyBytes} bytes in all), where the other continues with ${context(longer, offset)}`;
}
