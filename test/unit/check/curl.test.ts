import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { curlCommand } from '../../../src/check/curl.js';
import type { RecordedRequest } from '../../../src/history/events.js';
import { printfB, shellWords, type ShellToken } from './shell-words.js';

interface Parsed {
  method?: string;
  url?: string;
  headers: [string, string][];
  body: string | null;
  flags: string[];
}

const words = (tokens: readonly ShellToken[]): string[] =>
  tokens.map((token) => {
    if (!('word' in token)) throw new Error('unexpected operator');
    return token.word;
  });

/** Reads a curlCommand back into the request it sends, as a shell and curl would. */
function parse(command: string): Parsed {
  const tokens = shellWords(command);
  const pipe = tokens.findIndex((token) => 'operator' in token);
  let stdin: string | undefined;
  let curl = tokens;
  if (pipe >= 0) {
    const [printf, format, argument, ...rest] = words(tokens.slice(0, pipe));
    expect([printf, format, rest]).toEqual(['printf', '%b', []]);
    stdin = printfB(argument ?? '');
    curl = tokens.slice(pipe + 1);
  }
  const [program, ...args] = words(curl);
  expect(program).toBe('curl');
  const parsed: Parsed = { headers: [], body: null, flags: [] };
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    const value = args[i + 1] ?? '';
    if (arg === '-X') parsed.method = value;
    else if (arg === '--url') parsed.url = value;
    else if (arg === '--data-raw') parsed.body = value;
    else if (arg === '--data-binary' && value === '@-') parsed.body = stdin ?? null;
    else if (arg === '-H') {
      const colon = value.indexOf(':');
      parsed.headers.push(
        colon < 0 ? [value.replace(/;$/, ''), ''] : [value.slice(0, colon), value.slice(colon + 2)],
      );
    } else {
      parsed.flags.push(arg);
      continue;
    }
    i += 1;
  }
  return parsed;
}

const request = (overrides: Partial<RecordedRequest>): RecordedRequest => ({
  method: 'POST',
  url: 'http://127.0.0.1:40001/payments',
  targetUrl: 'http://127.0.0.1:3000/payments',
  headers: [
    ['content-type', 'application/json'],
    ['host', '127.0.0.1:40001'],
    ['content-length', '2'],
    ['connection', 'close'],
    ['idempotency-key', 'k-1'],
  ],
  body: '{}',
  ...overrides,
});

describe('curlCommand', () => {
  it('targets the API directly and leaves out the headers curl computes', () => {
    expect(curlCommand(request({}))).toBe(
      "curl -sS -i --globoff -X 'POST' -H 'content-type: application/json' -H 'idempotency-key: k-1' --data-raw '{}' --url 'http://127.0.0.1:3000/payments'",
    );
  });

  it('keeps hostile header values and bodies inside their quotes', () => {
    const hostile = 'it\'s $(touch /tmp/pwned) `id`; echo "x" \n rm -rf ~ & \'';
    const parsed = parse(curlCommand(request({ headers: [['x-note', hostile]], body: hostile })));
    expect(parsed.headers).toContainEqual(['x-note', hostile]);
    expect(parsed.body).toBe(hostile);
  });

  it('keeps curl from reading a file, globbing the URL or dropping an empty header', () => {
    const command = curlCommand(
      request({
        headers: [['x-empty', '']],
        body: '@/etc/passwd',
        targetUrl: 'http://h/a[1-2]{x,y}',
      }),
    );
    const parsed = parse(command);
    expect(parsed.flags).toContain('--globoff');
    expect(command).toContain("--data-raw '@/etc/passwd'");
    expect(command).toContain("-H 'x-empty;'");
    expect(parsed.headers).toContainEqual(['Content-Type', '']);
    expect(parsed.url).toBe('http://h/a[1-2]{x,y}');
  });

  it('sends a body holding NUL characters through printf on stdin', () => {
    const command = curlCommand(request({ body: 'a\0b\\0c%d\u00001' }));
    expect(command.startsWith("printf '%b' ")).toBe(true);
    expect(parse(command).body).toBe('a\0b\\0c%d\u00001');
  });

  it('has a tokeniser that refuses anything a shell would interpret', () => {
    expect(() => shellWords('curl $(id)')).toThrow(/unquoted '\$'/);
    expect(() => shellWords("curl 'a'; rm")).toThrow(/unquoted ';'/);
    expect(shellWords("a 'b c'\\''d' | e")).toEqual([
      { word: 'a' },
      { word: "b c'd" },
      { operator: '|' },
      { word: 'e' },
    ]);
  });

  it('sends no body when none was recorded', () => {
    const command = curlCommand(request({ method: 'GET', body: null, headers: [] }));
    expect(command).toBe("curl -sS -i --globoff -X 'GET' --url 'http://127.0.0.1:3000/payments'");
  });

  it('round-trips arbitrary header values, bodies, methods and URLs through a POSIX shell tokeniser', () => {
    const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/);
    const text = fc.string({ unit: 'binary', maxLength: 80 });
    const noNul = text.map((value) => value.replaceAll('\0', ''));
    const arbitraryRequest = fc.record({
      method: token,
      url: fc.constant('http://127.0.0.1:40001/'),
      targetUrl: noNul,
      headers: fc.array(fc.tuple(token, noNul), { maxLength: 6 }),
      body: fc.option(fc.oneof(text, fc.constantFrom("'", "'\\''", '$(id)', '\0', '\\0001%')), {
        nil: null,
      }),
    });
    fc.assert(
      fc.property(arbitraryRequest, (recorded) => {
        const parsed = parse(curlCommand(recorded));
        const sent = recorded.headers.filter(
          ([name]) => !['host', 'content-length', 'connection'].includes(name.toLowerCase()),
        );
        const hasType = sent.some(([name]) => name.toLowerCase() === 'content-type');
        const expected =
          recorded.body !== null && !hasType ? [...sent, ['Content-Type', '']] : sent;
        expect(parsed.method).toBe(recorded.method);
        expect(parsed.url).toBe(recorded.targetUrl);
        expect(parsed.headers).toEqual(expected);
        expect(parsed.body).toBe(recorded.body);
      }),
      { numRuns: 500 },
    );
  });
});
