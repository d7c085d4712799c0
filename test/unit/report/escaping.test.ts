import { describe, expect, it } from 'vitest';
import {
  anchorId,
  escapeHtml,
  joinHtml,
  markup,
  SafeHtml,
} from '../../../src/report/html-escape.js';
import { CSP } from '../../../src/report/html-page.js';
import { capBytes, showControls } from '../../../src/report/printable.js';

describe('showing text from a run', () => {
  it('makes control, bidi and lone surrogate characters visible', () => {
    expect(showControls('a\u0000b\u001b[2Jc\u202ed\ud800e\u0085f')).toBe(
      'a⟨U+0000⟩b⟨U+001B⟩[2Jc⟨U+202E⟩d⟨U+D800⟩e⟨U+0085⟩f',
    );
    expect(showControls('tab\tline\r\nend', 'lines')).toBe('tab\tline\r\nend');
    expect(showControls('line\r\nend', 'newlines')).toBe('line⟨U+000D⟩\nend');
    expect(showControls('line\nend', 'none')).toBe('line⟨U+000A⟩end');
    expect(showControls('emoji 😀 stays')).toBe('emoji 😀 stays');
  });

  it('cuts at a byte budget on a character boundary and counts the rest', () => {
    expect(capBytes('éé', 3)).toEqual({ text: 'é', moreBytes: 2 });
    expect(capBytes('abc', 10)).toEqual({ text: 'abc', moreBytes: 0 });
    // The recorded text was already cut: the whole body's size counts.
    expect(capBytes('abc', 10, 100)).toEqual({ text: 'abc', moreBytes: 97 });
  });
});

describe('html escaping', () => {
  it('escapes every interpolated value once, and nothing in the template', () => {
    const value = `"><img src=x onerror=alert(1)> javascript:x \`'&`;
    const escaped = escapeHtml(value);
    expect(escaped).toBe(
      '&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt; javascript&#58;x &#96;&#39;&amp;',
    );
    const fragment = markup`<p title="${value}">${value}${markup`<b>${1}</b>`}${[value, null]}</p>`;
    expect(fragment.markup).toBe(`<p title="${escaped}">${escaped}<b>1</b>${escaped}</p>`);
    expect(joinHtml([markup`<i>a</i>`, '<b>'], markup`, `).markup).toBe('<i>a</i>, &lt;b&gt;');
  });

  it('makes SafeHtml only through the template tag, and anchors only from generated parts', () => {
    expect(() => new SafeHtml('<script>', Symbol('SafeHtml maker'))).toThrow(
      'made only by the markup',
    );
    expect(anchorId('v', 1, 2, 3)).toBe('v-1-2-3');
    expect(() => anchorId('x" onclick="', 1)).toThrow('not a generated id');
  });
});

describe("the report page's Content-Security-Policy", () => {
  it('allows only inline styles, and names the directives default-src does not cover', () => {
    const directives = new Map(
      CSP.split(';').map((part) => {
        const [name = '', ...values] = part.trim().split(/\s+/);
        return [name, values.join(' ')] as const;
      }),
    );
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('style-src')).toBe("'unsafe-inline'");
    expect(directives.get('img-src')).toBe('data:');
    // No fallback to default-src for these: an injected <base> would move every relative URL,
    // and an injected <form> would send the page's text anywhere (seen in Chromium).
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'none'");
    for (const loose of ['script-src', 'connect-src', 'frame-src', 'child-src', 'object-src'])
      expect(directives.has(loose), loose).toBe(false);
  });
});
