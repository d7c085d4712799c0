/**
 * Text from a run (bodies, headers, messages) may hold anything. Before it is shown, characters
 * that would act instead of being seen become visible: C0/C1 controls (ESC can rewrite a
 * terminal, NUL breaks XML), bidirectional overrides (they can reorder what a reader sees),
 * lone surrogates and the noncharacters U+FFFE/U+FFFF. Each one turns into `⟨U+001B⟩`.
 *
 * Must not: drop or reorder characters silently, or escape markup (that is the formats' job).
 */

/**
 * Which whitespace controls stay as they are: 'lines' tab, LF and CR (HTML, where CR is
 * harmless); 'newlines' tab and LF (a terminal, where CR would move the cursor back over
 * text); 'tabs' tab only; 'none' none of them (one-line fields).
 */
export type KeepControls = 'lines' | 'newlines' | 'tabs' | 'none';

function isBidiControl(code: number): boolean {
  return (
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function kept(code: number, keep: KeepControls): boolean {
  if (code === 0x09) return keep !== 'none';
  if (code === 0x0a) return keep === 'lines' || keep === 'newlines';
  if (code === 0x0d) return keep === 'lines';
  return false;
}

function codePoint(code: number): string {
  return `⟨U+${code.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** Replaces characters that cannot be shown as themselves by a visible `⟨U+XXXX⟩`. */
export function showControls(text: string, keep: KeepControls = 'lines'): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let replace = false;
    let width = 1;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      replace = !kept(code, keep);
    } else if (isBidiControl(code) || code === 0xfffe || code === 0xffff) {
      replace = true;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) width = 2;
      else replace = true;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      replace = true;
    }
    if (replace) {
      out += text.slice(from, i) + codePoint(code);
      from = i + 1;
    } else if (width === 2) {
      i++;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Cuts text at a UTF-8 byte budget, on a character boundary. */
export interface CappedText {
  readonly text: string;
  /** Bytes not shown: of the text given, or of `totalBytes` when the text was already cut. */
  readonly moreBytes: number;
}

export const DISPLAY_BODY_BYTES = 4096;

export function capBytes(
  text: string,
  maxBytes: number = DISPLAY_BODY_BYTES,
  totalBytes?: number,
): CappedText {
  const bytes = Buffer.from(text, 'utf8');
  const total = Math.max(totalBytes ?? bytes.length, bytes.length);
  if (bytes.length <= maxBytes) return { text, moreBytes: total - bytes.length };
  let cut = maxBytes;
  // Back off to the start of a UTF-8 sequence: continuation bytes are 0b10xxxxxx.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return { text: bytes.subarray(0, cut).toString('utf8'), moreBytes: total - cut };
}

/** Cuts text to `max` characters with an ellipsis (for labels and table cells). */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
