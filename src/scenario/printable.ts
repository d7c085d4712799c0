/**
 * Text from a file or a document, safe to print on one terminal line: control, line-separator
 * and bidi characters become \u escapes (\n and \t stay short), and long text is cut. Used for
 * file names and anything a scenario file or module wrote, wherever it is printed.
 */
export function printable(text: string): string {
  const escaped = text.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (char) =>
    char === '\n'
      ? '\\n'
      : char === '\t'
        ? '\\t'
        : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > 500 ? `${escaped.slice(0, 500)}…` : escaped;
}
