/**
 * A small diff of two response bodies for the HTML report: lines (longest common subsequence)
 * and, when both bodies are JSON, the fields that changed, appeared or went away. Pure; sized
 * for recorded bodies (a few KiB), with limits so a huge body cannot stall the report.
 */

import { jsonDifferences } from '../check/json-diff.js';

export type DiffOp = 'same' | 'del' | 'ins';

export interface DiffLine {
  readonly op: DiffOp;
  readonly text: string;
}

export interface FieldChange {
  /** A JSON path: $.a.b[0], $["odd key"]. */
  readonly path: string;
  readonly change: 'changed' | 'added' | 'removed';
  /** JSON text of the value in the reference body / in the other body. */
  readonly before?: string;
  readonly after?: string;
}

export interface BodyDiff {
  readonly format: 'json' | 'text';
  /** Both bodies are JSON with equal values (the bytes differ in order or spacing only). */
  readonly sameJsonValue: boolean;
  /** Lines of the two bodies (JSON pretty-printed, keeping field order); null when too long. */
  readonly lines: readonly DiffLine[] | null;
  readonly fields: readonly FieldChange[];
  /** More field changes than listed. */
  readonly moreFields: number;
}

export const MAX_DIFF_LINES = 400;
export const MAX_FIELD_CHANGES = 100;

/** Line diff; null when either side has more than `maxLines` lines after the common ends. */
export function diffLines(a: string, b: string, maxLines = MAX_DIFF_LINES): DiffLine[] | null {
  const left = a.split('\n');
  const right = b.split('\n');
  let start = 0;
  while (start < left.length && start < right.length && left[start] === right[start]) start++;
  let endLeft = left.length;
  let endRight = right.length;
  while (endLeft > start && endRight > start && left[endLeft - 1] === right[endRight - 1]) {
    endLeft--;
    endRight--;
  }
  const n = endLeft - start;
  const m = endRight - start;
  if (n > maxLines || m > maxLines) return null;
  // lcs[i][j]: length of the LCS of left[start+i..endLeft) and right[start+j..endRight).
  const lcs = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number): number => lcs[i * (m + 1) + j] ?? 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        left[start + i] === right[start + j]
          ? at(i + 1, j + 1) + 1
          : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const out: DiffLine[] = left.slice(0, start).map((text) => ({ op: 'same', text }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    const l = left[start + i];
    const r = right[start + j];
    if (i < n && j < m && l === r) {
      out.push({ op: 'same', text: l ?? '' });
      i++;
      j++;
    } else if (j < m && (i >= n || at(i, j + 1) >= at(i + 1, j))) {
      out.push({ op: 'ins', text: r ?? '' });
      j++;
    } else {
      out.push({ op: 'del', text: l ?? '' });
      i++;
    }
  }
  for (const text of left.slice(endLeft)) out.push({ op: 'same', text });
  return out;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

const ABSENT = '(absent)';

/**
 * Field changes from `a` to `b` in document order: the checkers' JSON difference (one
 * definition of "which fields differ" for messages and the report), as table rows.
 */
export function diffJson(a: unknown, b: unknown): FieldChange[] {
  return jsonDifferences(a, b, MAX_FIELD_CHANGES * 10).map(({ path, first, second }) => {
    if (first === ABSENT) return { path, change: 'added', after: second };
    if (second === ABSENT) return { path, change: 'removed', before: first };
    return { path, change: 'changed', before: first, after: second };
  });
}

/** Compares a reference body with another one. */
export function diffBodies(reference: string, other: string): BodyDiff {
  const left = parseJson(reference);
  const right = parseJson(other);
  if (left.ok && right.ok) {
    const fields = diffJson(left.value, right.value);
    const prettyLeft = JSON.stringify(left.value, null, 2) ?? '';
    const prettyRight = JSON.stringify(right.value, null, 2) ?? '';
    // Same value, same pretty form: the difference is spacing, so show the bytes' lines.
    const lines =
      prettyLeft === prettyRight ? diffLines(reference, other) : diffLines(prettyLeft, prettyRight);
    return {
      format: 'json',
      sameJsonValue: fields.length === 0,
      lines,
      fields: fields.slice(0, MAX_FIELD_CHANGES),
      moreFields: Math.max(0, fields.length - MAX_FIELD_CHANGES),
    };
  }
  return {
    format: 'text',
    sameJsonValue: false,
    lines: diffLines(reference, other),
    fields: [],
    moreFields: 0,
  };
}
