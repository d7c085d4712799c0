/**
 * A tokeniser for the POSIX shell command language, enough to read back what curlCommand
 * writes: words, single quotes, double quotes, backslash escapes and the `|` operator. It
 * throws on any unquoted character a shell would interpret (expansions, globs, redirections,
 * separators), so a test passes only if nothing in the command escaped its quotes.
 */
export type ShellToken = { readonly word: string } | { readonly operator: '|' };

const UNSAFE = new Set([
  '$',
  '`',
  ';',
  '&',
  '<',
  '>',
  '(',
  ')',
  '*',
  '?',
  '[',
  ']',
  '{',
  '}',
  '!',
  '#',
  '~',
  '"',
]);

export function shellWords(command: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let word: string | undefined;
  let at = 0;
  const end = () => {
    if (word !== undefined) tokens.push({ word });
    word = undefined;
  };
  while (at < command.length) {
    const char = command[at] ?? '';
    if (char === ' ' || char === '\t' || char === '\n') {
      end();
      at += 1;
    } else if (char === "'") {
      const close = command.indexOf("'", at + 1);
      if (close < 0) throw new Error(`unterminated single quote at ${at}`);
      word = (word ?? '') + command.slice(at + 1, close);
      at = close + 1;
    } else if (char === '\\') {
      const next = command[at + 1];
      if (next === undefined) throw new Error('backslash at end of command');
      if (next !== '\n') word = (word ?? '') + next;
      at += 2;
    } else if (char === '|') {
      end();
      tokens.push({ operator: '|' });
      at += 1;
    } else if (UNSAFE.has(char)) {
      throw new Error(`unquoted '${char}' at ${at}: the shell would interpret it`);
    } else {
      word = (word ?? '') + char;
      at += 1;
    }
  }
  end();
  return tokens;
}

/** What `printf '%b' ARG` prints, for the escapes curlCommand writes (`\\` and `\0ddd`). */
export function printfB(argument: string): string {
  return argument.replace(/\\(\\|0[0-7]{0,3})/g, (_, escape: string) =>
    escape === '\\' ? '\\' : String.fromCharCode(parseInt(escape.slice(1) || '0', 8)),
  );
}
