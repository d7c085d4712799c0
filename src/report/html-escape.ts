import { showControls } from './printable.js';

/**
 * The HTML page's one escaping function, and the `markup` template tag that applies it to every
 * interpolated value. Markup comes only from the literal parts of `markup` templates written in
 * this folder; there is deliberately no way to insert a raw string.
 *
 * Besides & < > " ' it encodes ` = and : so that escaped data can never read as an attribute,
 * an event handler (`onerror=`) or a URL scheme (`javascript:`), not even to a scanner that
 * greps the file. Control and bidi characters become visible `⟨U+XXXX⟩` first.
 *
 * The tag is called `markup`, not `html`, on purpose: prettier reformats templates tagged
 * `html`, which would change the whitespace the page shows (inside <pre>, between lines).
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
  ':': '&#58;',
};

export function escapeHtml(value: string): string {
  return showControls(value, 'lines').replace(/[&<>"'`=:]/g, (char) => ENTITIES[char] ?? char);
}

/** Held only by this module, so only `markup` and `joinHtml` can make SafeHtml. */
const MAKER = Symbol('SafeHtml maker');

/** Markup made by a `markup` template: safe to insert as it is. */
export class SafeHtml {
  readonly markup: string;
  constructor(markup: string, maker: symbol) {
    if (maker !== MAKER) throw new Error('SafeHtml is made only by the markup`` template tag');
    this.markup = markup;
  }

  toString(): string {
    return this.markup;
  }
}

export type HtmlValue = SafeHtml | string | number | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.markup;
  if (typeof value === 'number') return escapeHtml(Number.isFinite(value) ? String(value) : '0');
  if (typeof value === 'string') return escapeHtml(value);
  let out = '';
  for (const item of value) out += render(item);
  return out;
}

/** Template tag: literal parts are markup, every `${value}` is escaped (arrays are joined). */
export function markup(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]);
    out += strings[i + 1] ?? '';
  }
  return new SafeHtml(out, MAKER);
}

/** Joins fragments (null and undefined are skipped). */
export function joinHtml(parts: readonly HtmlValue[], separator?: SafeHtml): SafeHtml {
  const rendered = parts.filter((part) => part !== null && part !== undefined).map(render);
  return new SafeHtml(rendered.join(separator?.markup ?? ''), MAKER);
}

/** An id for an anchor, from generated parts only (letters, digits, dashes). */
export function anchorId(prefix: string, ...numbers: readonly number[]): string {
  const id = [prefix, ...numbers.map((n) => String(Math.trunc(n)))].join('-');
  if (!/^[a-z][a-z0-9-]*$/.test(id)) throw new Error(`anchorId(): '${id}' is not a generated id`);
  return id;
}
