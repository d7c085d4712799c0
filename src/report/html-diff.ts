import type { Attempt, OkEvent } from '../history/events.js';
import { diffBodies, type DiffLine } from './body-diff.js';
import { markup, type SafeHtml } from './html-escape.js';
import { count } from './html-format.js';
import { capBytes, DISPLAY_BODY_BYTES } from './printable.js';

/**
 * For the attempts of a violation that got responses: the first response (by invoke order) is
 * the reference, and each different body (by SHA-256) is diffed against it: changed JSON fields
 * in a table, then the lines, with unchanged runs folded. The same 4 KiB display cap applies.
 */

const MAX_OTHER_BODIES = 5;
const CONTEXT = 3;
const MAX_SHOWN_LINES = 300;

interface Responded {
  readonly attempt: Attempt;
  readonly ok: OkEvent;
}

function responded(attempts: readonly Attempt[]): Responded[] {
  const out: Responded[] = [];
  for (const attempt of attempts) {
    if (attempt.completion?.type === 'ok') out.push({ attempt, ok: attempt.completion });
  }
  return out;
}

/**
 * Lines with long unchanged runs folded, and a cap on the lines and bytes shown. Each line is a
 * span shown as a block (see html-styles.ts), so nothing separates them: whitespace between
 * them inside <pre> would show as blank lines.
 */
function foldedLines(lines: readonly DiffLine[]): SafeHtml {
  const keep = lines.map((line) => line.op !== 'same');
  const near = keep.map((_, i) => {
    for (let d = -CONTEXT; d <= CONTEXT; d++) if (keep[i + d] === true) return true;
    return false;
  });
  const parts: SafeHtml[] = [];
  let shown = 0;
  let bytes = 0;
  let folded = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === undefined) continue;
    if (!near[i]) {
      folded++;
      continue;
    }
    if (folded > 0) {
      parts.push(markup`<span class="fold">… ${folded} unchanged lines</span>`);
      folded = 0;
    }
    if (shown >= MAX_SHOWN_LINES || bytes >= DISPLAY_BODY_BYTES * 2) {
      parts.push(markup`<span class="fold">… ${lines.length - i} more lines not shown</span>`);
      break;
    }
    const text = capBytes(line.text, 512).text;
    bytes += text.length;
    shown++;
    const sign = line.op === 'del' ? '-' : line.op === 'ins' ? '+' : ' ';
    parts.push(markup`<span class="${line.op}">${sign} ${text}</span>`);
  }
  if (folded > 0) parts.push(markup`<span class="fold">… ${folded} unchanged lines</span>`);
  return markup`<pre class="diff">${parts}</pre>`;
}

function oneDiff(reference: Responded, other: Responded): SafeHtml {
  const diff = diffBodies(reference.ok.response.body, other.ok.response.body);
  const cut = reference.ok.response.bodyTruncated || other.ok.response.bodyTruncated;
  const summary = diff.sameJsonValue
    ? 'Same JSON value, different bytes: field order, spacing or number format differ.'
    : diff.format === 'json'
      ? `${diff.fields.length + diff.moreFields} JSON field(s) differ.`
      : 'The bodies differ (not both JSON).';
  const fields =
    diff.fields.length === 0
      ? null
      : markup`<div class="wide"><table class="fields">
            <thead>
              <tr>
                <th>field</th>
                <th>change</th>
                <th>reference</th>
                <th>this response</th>
              </tr>
            </thead>
            <tbody>
              ${diff.fields.map(
                (field) =>
                  markup`<tr class="${field.change}">
                    <td><code>${field.path}</code></td>
                    <td>${field.change}</td>
                    <td><code>${field.before ?? ''}</code></td>
                    <td><code>${field.after ?? ''}</code></td>
                  </tr>`,
              )}
            </tbody>
          </table></div>
          ${diff.moreFields > 0 ? markup`<p class="note">${diff.moreFields} more fields differ.</p>` : null}`;
  const lines =
    diff.lines === null
      ? markup`<p class="note">Too many lines to diff here; compare the bodies above.</p>`
      : foldedLines(diff.lines);
  return markup`<div class="bodydiff">
    <h5>
      Body of <strong>${other.attempt.invoke.op}</strong> (${other.ok.response.status},
      ${other.attempt.invoke.label}) against the reference
      <strong>${reference.attempt.invoke.op}</strong> (${reference.ok.response.status},
      ${reference.attempt.invoke.label})
    </h5>
    <p>
      ${summary}${diff.format === 'json' && !diff.sameJsonValue ? ' Lines are pretty-printed, keeping field order.' : ''}${cut ? ' One body was cut at the recording limit, so only its recorded part is compared.' : ''}
    </p>
    ${fields}
    <p class="note">
      Lines: <span class="del">- reference</span> <span class="ins">+ this response</span>
    </p>
    ${lines}
  </div>`;
}

/** Diffs of the differing response bodies, or null when all bodies are identical. */
export function renderBodyDiffs(attempts: readonly Attempt[]): SafeHtml | null {
  const withResponses = responded(attempts);
  const reference = withResponses[0];
  if (reference === undefined) return null;
  const seen = new Set<string>([reference.ok.response.bodySha256]);
  const others: Responded[] = [];
  let skipped = 0;
  for (const item of withResponses.slice(1)) {
    const hash = item.ok.response.bodySha256;
    if (seen.has(hash)) continue;
    seen.add(hash);
    if (others.length < MAX_OTHER_BODIES) others.push(item);
    else skipped++;
  }
  if (others.length === 0) return null;
  const more =
    skipped > 0
      ? markup`<p class="note">${count(skipped)} more distinct bodies not diffed.</p>`
      : null;
  return markup`<section class="diffs">
    <h4>Body differences</h4>
    ${others.map((other) => oneDiff(reference, other))}${more}
  </section>`;
}
