/**
 * A minimal, strict XML reader for the tests (no dependency): it throws on unbalanced tags,
 * unquoted or unescaped attributes, stray `&`, `]]>` in text and characters XML 1.0 forbids.
 */

export interface ParsedElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly (ParsedElement | string)[];
}

const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;
const NAMED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

function decode(raw: string, where: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i] ?? '';
    if (char === '<') throw new Error(`raw '<' in ${where}`);
    if (char !== '&') {
      out += char;
      continue;
    }
    ENTITY.lastIndex = i;
    const match = ENTITY.exec(raw);
    if (match === null) throw new Error(`stray '&' in ${where}: ${raw.slice(i, i + 12)}`);
    const name = match[1] ?? '';
    out += name.startsWith('#x')
      ? String.fromCodePoint(parseInt(name.slice(2), 16))
      : name.startsWith('#')
        ? String.fromCodePoint(parseInt(name.slice(1), 10))
        : (NAMED[name] ?? '');
    i += match[0].length - 1;
  }
  return out;
}

function checkCharacters(text: string): void {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const ok =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    if (!ok) throw new Error(`forbidden character U+${code.toString(16)}`);
  }
}

const OPEN = /<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"]*")*)\s*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z_][\w.-]*)="([^"]*)"/g;
const CLOSE = /<\/([A-Za-z_][\w.-]*)\s*>/y;

export function parseXml(text: string): ParsedElement {
  checkCharacters(text);
  const declaration = /^<\?xml version="1.0" encoding="UTF-8"\?>\n/.exec(text);
  if (declaration === null) throw new Error('missing XML declaration');
  let i = declaration[0].length;
  interface Open {
    name: string;
    attributes: Record<string, string>;
    children: (ParsedElement | string)[];
  }
  const stack: Open[] = [];
  let root: ParsedElement | undefined;
  while (i < text.length) {
    if (text[i] === '<') {
      CLOSE.lastIndex = i;
      const close = CLOSE.exec(text);
      if (close !== null) {
        const top = stack.pop();
        if (top === undefined || top.name !== close[1])
          throw new Error(`unexpected </${close[1]}> at ${i}`);
        const done: ParsedElement = top;
        const parent = stack.at(-1);
        if (parent === undefined) root = done;
        else parent.children.push(done);
        i = CLOSE.lastIndex;
        continue;
      }
      OPEN.lastIndex = i;
      const open = OPEN.exec(text);
      if (open === null) throw new Error(`malformed tag at ${i}: ${text.slice(i, i + 40)}`);
      if (root !== undefined) throw new Error('content after the root element');
      const attributes: Record<string, string> = {};
      for (const match of (open[2] ?? '').matchAll(ATTRIBUTE)) {
        const name = match[1] ?? '';
        if (name in attributes) throw new Error(`duplicate attribute ${name}`);
        attributes[name] = decode(match[2] ?? '', `attribute ${name}`);
      }
      const element: Open = { name: open[1] ?? '', attributes, children: [] };
      if (open[3] === '/') {
        const parent = stack.at(-1);
        if (parent === undefined) root = element;
        else parent.children.push(element);
      } else {
        stack.push(element);
      }
      i = OPEN.lastIndex;
      continue;
    }
    const next = text.indexOf('<', i);
    const raw = text.slice(i, next === -1 ? text.length : next);
    if (raw.includes(']]>')) throw new Error("']]>' in text");
    const parent = stack.at(-1);
    if (parent === undefined) {
      if (raw.trim() !== '') throw new Error(`text outside the root element: ${raw.slice(0, 40)}`);
    } else {
      parent.children.push(decode(raw, `text of <${parent.name}>`));
    }
    i = next === -1 ? text.length : next;
  }
  if (stack.length > 0 || root === undefined) throw new Error('unclosed elements');
  return root;
}

export function elements(node: ParsedElement, name: string): ParsedElement[] {
  const found: ParsedElement[] = [];
  const visit = (current: ParsedElement): void => {
    if (current.name === name) found.push(current);
    for (const child of current.children) if (typeof child !== 'string') visit(child);
  };
  visit(node);
  return found;
}

export function children(node: ParsedElement, name: string): ParsedElement[] {
  return node.children.filter(
    (child): child is ParsedElement => typeof child !== 'string' && child.name === name,
  );
}

export function textOf(node: ParsedElement): string {
  return node.children.map((child) => (typeof child === 'string' ? child : textOf(child))).join('');
}
