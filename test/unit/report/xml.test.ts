import { describe, expect, it } from 'vitest';
import { element, serialize, stripForbidden } from '../../../src/report/xml.js';
import { parseXml, textOf } from './xml-parse.js';

describe('xml tree', () => {
  it('escapes text and attributes exactly once', () => {
    const text = serialize(
      element('a', { q: `"quoted" 'single' <tag> & &amp;`, n: 3, skip: undefined, none: null }, [
        element('b', {}, ['x < y && z > w ]]> &lt;']),
        element('c'),
      ]),
    );
    expect(text).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<a q="&quot;quoted&quot; &apos;single&apos; &lt;tag&gt; &amp; &amp;amp;" n="3">',
        '  <b>x &lt; y &amp;&amp; z &gt; w ]]&gt; &amp;lt;</b>',
        '  <c/>',
        '</a>',
        '',
      ].join('\n'),
    );
    const root = parseXml(text);
    expect(root.attributes.q).toBe(`"quoted" 'single' <tag> & &amp;`);
    expect(textOf(root)).toContain('x < y && z > w ]]> &lt;');
  });

  it('strips characters XML 1.0 forbids and keeps line breaks in attributes', () => {
    expect(
      stripForbidden('a\u0000b\u0001c\u0008d\u000be\u000cf\u001fg\ufffeh\ud800i\tj\nk😀'),
    ).toBe('abcdefghi\tj\nk😀');
    const root = parseXml(
      serialize(element('a', { m: 'one\ntwo\r\n\tthree\u0007' }, ['x\u0002y\r\nz'])),
    );
    expect(root.attributes.m).toBe('one\ntwo\r\n\tthree');
    expect(textOf(root)).toBe('xy\r\nz');
  });

  it('refuses names that would not be XML', () => {
    expect(() => element('bad name')).toThrow("invalid element name 'bad name'");
    expect(() => element('a', { 'on"x': 1 })).toThrow('invalid attribute name');
  });
});
