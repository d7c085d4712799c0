import type { RecordedRequest } from '../history/events.js';

/**
 * A curl command that sends a recorded request again, straight to the target (not through a
 * fault lane), to paste into a POSIX shell (sh, bash, zsh, dash).
 *
 * Every value is single-quoted, the one quoting in which a shell interprets nothing, so header
 * values and bodies holding quotes, newlines, `$(...)`, backticks or `;` cannot break out.
 * curl itself is kept from interpreting values too: `--data-raw` (a body starting with `@` is
 * not a file name), `--globoff` (brackets in the URL are not ranges), `--url` (a URL starting
 * with `-` is not an option), `name;` for an empty header (`name:` would remove it) and an
 * empty Content-Type when none was recorded (curl would add a form type of its own).
 * A body holding NUL characters, which no shell argument can carry, is fed on stdin by
 * `printf '%b'` with octal escapes; a binary body (recorded in base64) through `base64 -d`.
 *
 * Must not: add, drop or change anything else the request carried, except the headers curl
 * computes itself (Host, Content-Length, Connection).
 */
const COMPUTED_BY_CURL = new Set(['host', 'content-length', 'connection']);

/** `value` as one POSIX shell word: single quotes, with each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** An argument to `printf '%b'` that prints `text` exactly, NUL characters included. */
function printfEscaped(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\0', '\\0000');
}

export function curlCommand(request: RecordedRequest): string {
  const words = ['curl', '-sS', '-i', '--globoff', '-X', shellQuote(request.method)];
  const headers = request.headers.filter(([name]) => !COMPUTED_BY_CURL.has(name.toLowerCase()));
  for (const [name, value] of headers) {
    words.push('-H', shellQuote(value === '' ? `${name};` : `${name}: ${value}`));
  }
  const body = request.body;
  const hasContentType = headers.some(([name]) => name.toLowerCase() === 'content-type');
  if (body !== null && !hasContentType) words.push('-H', shellQuote('Content-Type:'));
  let prefix = '';
  if (body !== null && request.bodyEncoding === 'base64') {
    // Bytes that are not text: decoded from the recorded base64 on the way in.
    prefix = `printf '%s' ${shellQuote(body)} | base64 -d | `;
    words.push('--data-binary', '@-');
  } else if (body !== null && body.includes('\0')) {
    prefix = `printf '%b' ${shellQuote(printfEscaped(body))} | `;
    words.push('--data-binary', '@-');
  } else if (body !== null) {
    words.push('--data-raw', shellQuote(body));
  }
  words.push('--url', shellQuote(request.targetUrl));
  const command = prefix + words.join(' ');
  // A body cut for the record cannot be sent again from it: say so on the line itself.
  return request.bodyTruncated === true
    ? `${command} # the body sent was ${request.bodyBytes ?? '?'} bytes (SHA-256 ${request.bodySha256 ?? '?'}); the history kept only its start`
    : command;
}
