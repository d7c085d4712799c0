/**
 * A tiny XML tree: build elements with `element`, turn the tree into text with `serialize`.
 * Text and attribute values are escaped in exactly one place (here), and characters XML 1.0
 * forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are stripped, so any string from
 * a run can go in as it is.
 *
 * Must not: accept pre-escaped markup (there is no raw node on purpose).
 */

export type XmlAttributeValue = string | number | null | undefined;

export interface XmlElement {
  readonly name: string;
  /** Attributes in the order given; null or undefined values are left out. */
  readonly attributes: Readonly<Record<string, XmlAttributeValue>>;
  readonly children: readonly XmlNode[];
}

/** A string child is text. */
export type XmlNode = XmlElement | string;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function element(
  name: string,
  attributes: Readonly<Record<string, XmlAttributeValue>> = {},
  children: readonly XmlNode[] = [],
): XmlElement {
  if (!NAME.test(name)) throw new Error(`xml element(): invalid element name '${name}'`);
  for (const attribute of Object.keys(attributes)) {
    if (!NAME.test(attribute)) {
      throw new Error(`xml element(): invalid attribute name '${attribute}' on <${name}>`);
    }
  }
  return { name, attributes, children };
}

function allowed(code: number): boolean {
  return (
    code === 0x09 ||
    code === 0x0a ||
    code === 0x0d ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** Removes every character XML 1.0 does not allow in a document. */
export function stripForbidden(text: string): string {
  let out = '';
  for (const char of text) {
    if (allowed(char.codePointAt(0) ?? 0)) out += char;
  }
  return out;
}

const TEXT_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  // Parsers turn a raw CR (or CR LF) into LF; a reference keeps it.
  '\r': '&#13;',
};

const ATTRIBUTE_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Parsers normalise raw whitespace in attributes to spaces; references keep it.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

function escapeText(text: string): string {
  return stripForbidden(text).replace(/[&<>\r]/g, (char) => TEXT_ENTITIES[char] ?? char);
}

function escapeAttribute(value: string): string {
  return stripForbidden(value).replace(
    /[&<>"'\t\n\r]/g,
    (char) => ATTRIBUTE_ENTITIES[char] ?? char,
  );
}

function attributesText(attributes: Readonly<Record<string, XmlAttributeValue>>): string {
  let text = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    text += ` ${name}="${escapeAttribute(String(value))}"`;
  }
  return text;
}

function write(node: XmlElement, depth: number, lines: string[]): void {
  const indent = '  '.repeat(depth);
  const open = `${indent}<${node.name}${attributesText(node.attributes)}`;
  if (node.children.length === 0) {
    lines.push(`${open}/>`);
    return;
  }
  if (node.children.every((child) => typeof child === 'string')) {
    // Text-only content stays on one line so no whitespace is added to it.
    const text = node.children.map((child) => (typeof child === 'string' ? child : '')).join('');
    lines.push(`${open}>${escapeText(text)}</${node.name}>`);
    return;
  }
  lines.push(`${open}>`);
  for (const child of node.children) {
    if (typeof child === 'string') lines.push(escapeText(child));
    else write(child, depth + 1, lines);
  }
  lines.push(`${indent}</${node.name}>`);
}

/** The document's text: an XML declaration, then the tree, indented by two spaces. */
export function serialize(root: XmlElement): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  write(root, 0, lines);
  return `${lines.join('\n')}\n`;
}
