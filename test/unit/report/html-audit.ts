/**
 * Reads an HTML page the way an attacker would hope it is read: every tag, every attribute.
 * Throws when a '<' does not start a tag this report is allowed to emit, or an attribute is
 * not on the list (so no on*= handler, src, style or action can appear), or a link leaves the
 * page.
 */

const TAGS = new Set([
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'main',
  'header',
  'nav',
  'section',
  'article',
  'footer',
  'div',
  'span',
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'dl',
  'dt',
  'dd',
  'ul',
  'li',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'a',
  'pre',
  'code',
  'strong',
  'wbr',
  'details',
  'summary',
  'figure',
  'figcaption',
  'svg',
  'g',
  'rect',
  'line',
  'text',
  'polygon',
]);

const ATTRIBUTES = new Set([
  'lang',
  'charset',
  'http-equiv',
  'content',
  'name',
  'class',
  'id',
  'href',
  'title',
  'viewbox',
  'width',
  'height',
  'role',
  'aria-label',
  'x',
  'y',
  'x1',
  'y1',
  'x2',
  'y2',
  'text-anchor',
  'points',
  'open',
]);

export interface Tag {
  readonly name: string;
  readonly closing: boolean;
  readonly attributes: ReadonlyMap<string, string>;
}

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:="[^"<>]*")?)*)\s*>/y;
const ATTRIBUTE = /\s+([a-zA-Z][a-zA-Z0-9-]*)(?:="([^"<>]*)")?/g;

export function auditTags(page: string): Tag[] {
  const tags: Tag[] = [];
  const doctype = '<!doctype html>';
  let i = page.startsWith(doctype) ? doctype.length : 0;
  for (;;) {
    const at = page.indexOf('<', i);
    if (at === -1) break;
    TAG.lastIndex = at;
    const match = TAG.exec(page);
    if (match === null)
      throw new Error(`'<' that is not an allowed tag at ${at}: ${page.slice(at, at + 60)}`);
    const name = (match[2] ?? '').toLowerCase();
    if (!TAGS.has(name)) throw new Error(`tag <${name}> is not allowed`);
    const attributes = new Map<string, string>();
    for (const attribute of (match[3] ?? '').matchAll(ATTRIBUTE)) {
      const attributeName = (attribute[1] ?? '').toLowerCase();
      if (!ATTRIBUTES.has(attributeName))
        throw new Error(`attribute ${attributeName} on <${name}> is not allowed`);
      attributes.set(attributeName, attribute[2] ?? '');
    }
    const href = attributes.get('href');
    if (href !== undefined && !/^#[a-z][a-z0-9-]*$/.test(href))
      throw new Error(`link leaves the page: ${href}`);
    tags.push({ name, closing: match[1] === '/', attributes });
    i = TAG.lastIndex;
  }
  return tags;
}
