import type { HeaderList, ProbeReading, RecordedRequest, RecordedResponse } from './events.js';
import { mapEventParts, type EventParts } from './event-parts.js';
import type { NewEvent } from './recorder.js';

/** Headers whose values never appear in any output, whatever the scenario says. */
export const ALWAYS_REDACTED_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
] as const;

export const REDACTED = '[redacted]';

/**
 * Query parameters whose values are credentials unless a scenario says otherwise
 * (`redact.publicQueryParams`); matched case-insensitively, in every URL of every text.
 */
export const CREDENTIAL_QUERY_PARAMS = [
  'token',
  'access_token',
  'api_key',
  'key',
  'signature',
  'sig',
  'password',
] as const;

/** The authority of a URL, from after `://` to the path, query, fragment or a space. */
const AUTHORITY = /[^\s/?#"'<>`]*/y;

/** A template placeholder ({{key}}) or environment reference (${NAME}) is not a secret. */
const REFERENCE = /^(?:\{\{\s*\w+\s*\}\}|\$\{\w+\})$/;

/**
 * `text` with the userinfo of every URL (`user:password@`) and the value of every listed
 * query parameter replaced by [redacted]. The one place URLs are cleaned: the Redactor, the
 * run result and the certificate all call it. `onSecret` receives each password removed, so
 * the caller can hunt for other copies. Query values are not handed on: a `key` parameter
 * often holds an idempotency key, which must stay readable in the rest of the history.
 * Placeholders ({{key}}, ${NAME}) are kept: they are not values.
 */
export function scrubUrls(
  text: string,
  queryParams: readonly string[] = CREDENTIAL_QUERY_PARAMS,
  onSecret: (secret: string) => void = () => undefined,
): string {
  let result = text.includes('@') ? scrubUserinfo(text, onSecret) : text;
  if (queryParams.length > 0 && result.includes('=')) result = scrubQuery(result, queryParams);
  return result;
}

/** `text` with the userinfo of every `scheme://userinfo@host` replaced; one scan per `://`. */
function scrubUserinfo(text: string, onSecret: (secret: string) => void): string {
  let result = '';
  let copied = 0;
  for (let at = text.indexOf('://'); at >= 0; at = text.indexOf('://', at + 3)) {
    AUTHORITY.lastIndex = at + 3;
    const authority = AUTHORITY.exec(text)?.[0] ?? '';
    // The userinfo runs to the last @ of the authority, as URL parsers read it.
    const userinfo = authority.slice(0, Math.max(0, authority.lastIndexOf('@')));
    if (!authority.includes('@') || userinfo === REDACTED) continue;
    const colon = userinfo.indexOf(':');
    if (colon >= 0) onSecret(userinfo.slice(colon + 1));
    result += `${text.slice(copied, at + 3)}${REDACTED}`;
    copied = at + 3 + userinfo.length;
  }
  return copied === 0 ? text : result + text.slice(copied);
}

/** `?`, `&` or `;`. */
function isQuerySeparator(code: number): boolean {
  return code === 0x3f || code === 0x26 || code === 0x3b;
}

/** A query value: up to the next parameter, the fragment, a space or a quote. */
const QUERY_VALUE = /[^&#\s"'<>`]*/y;

/** Lower-cased names, per list (the lists are constants or a Redactor's own). */
const queryNames = new WeakMap<
  readonly string[],
  { names: Set<string>; lengths: Set<number>; longest: number }
>();

/**
 * `text` with the value of every `?name=`, `&name=` or `;name=` whose name is listed
 * (case-insensitive) replaced. Walks the `=` signs, which bodies hold few of: a regular
 * expression over a 256 KiB body costs ten times more.
 */
function scrubQuery(text: string, queryParams: readonly string[]): string {
  let wanted = queryNames.get(queryParams);
  if (wanted === undefined) {
    const names = new Set(queryParams.map((name) => name.toLowerCase()));
    const lengths = new Set([...names].map((name) => name.length));
    wanted = { names, lengths, longest: Math.max(...lengths) };
    queryNames.set(queryParams, wanted);
  }
  let result = '';
  let copied = 0;
  for (let equals = text.indexOf('='); equals >= 0; equals = text.indexOf('=', equals + 1)) {
    // The name starts after a separator at most `longest` characters back.
    const from = Math.max(0, equals - wanted.longest - 1);
    let start = equals - 1;
    while (start >= from && !isQuerySeparator(text.charCodeAt(start))) start -= 1;
    if (start < from || !wanted.lengths.has(equals - start - 1)) continue;
    if (!wanted.names.has(text.slice(start + 1, equals).toLowerCase())) continue;
    QUERY_VALUE.lastIndex = equals + 1;
    const value = QUERY_VALUE.exec(text)?.[0] ?? '';
    if (value === '' || value === REDACTED || REFERENCE.test(value)) continue;
    result += `${text.slice(copied, equals + 1)}${REDACTED}`;
    copied = equals + 1 + value.length;
  }
  return copied === 0 ? text : result + text.slice(copied);
}

/** Secret values shorter than this are not searched for elsewhere (too many false hits). */
const MIN_SECRET_LENGTH = 6;

export interface RedactionRules {
  /** More header names to redact (case-insensitive). */
  readonly headers?: readonly string[];
  /** JSON field (and form parameter) names whose values are redacted in request and response bodies. */
  readonly jsonFields?: readonly string[];
  /** Query parameters redacted in every URL (case-insensitive; default CREDENTIAL_QUERY_PARAMS). */
  readonly queryParams?: readonly string[];
}

/**
 * Keeps secrets out of everything idemproof writes. The history is redacted as it is
 * recorded, so every report, the terminal and curl lines (all built from the history) are
 * clean by construction.
 *
 * Three layers: URLs (userinfo and credential query parameters, by `scrubUrls`), names
 * (sensitive headers, listed JSON fields) and values: every secret value seen in a sensitive
 * header, a field or a URL's password is remembered, and any later occurrence of it in any
 * recorded text (a body that echoes the token, an error message) is replaced too. Request bodies and headers are redacted after the request was sent: the target
 * always gets the real values.
 *
 * Must not: change anything but secret values, or leave the value of a listed header or
 * field readable in any recorded event.
 */
export class Redactor {
  private readonly headerNames: ReadonlySet<string>;
  private readonly fields: ReadonlySet<string>;
  private readonly queryParams: readonly string[];
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  constructor(rules: RedactionRules = {}) {
    this.headerNames = new Set([
      ...ALWAYS_REDACTED_HEADERS,
      ...(rules.headers ?? []).map((name) => name.toLowerCase()),
    ]);
    this.fields = new Set(rules.jsonFields ?? []);
    this.queryParams = rules.queryParams ?? CREDENTIAL_QUERY_PARAMS;
  }

  /** Remembers a secret value (and, for "Bearer xyz", the token alone). */
  learn(value: string): void {
    const candidates = [value, value.replace(/^\s*(bearer|basic|token|apikey)\s+/i, '')];
    // Cookies: each name=value pair's value is a secret of its own.
    for (const pair of value.split(';')) {
      const cookie = /^\s*[^=\s]+=(.+)$/.exec(pair.split(',')[0] ?? '')?.[1];
      if (cookie !== undefined) candidates.push(cookie.trim());
    }
    let added = false;
    for (const candidate of candidates) {
      const secret = candidate.trim();
      if (secret.length >= MIN_SECRET_LENGTH && !this.secrets.has(secret)) {
        this.secrets.add(secret);
        added = true;
      }
    }
    if (added) {
      const alternatives = [...this.secrets]
        .sort((a, b) => b.length - a.length)
        .map((secret) => secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
  }

  /** `text` with URL credentials and every known secret value replaced. */
  scrub(text: string): string {
    const clean = scrubUrls(text, this.queryParams, (password) => this.learnPassword(password));
    if (this.pattern === undefined || clean.length < MIN_SECRET_LENGTH) return clean;
    this.pattern.lastIndex = 0;
    return this.pattern.test(clean) ? clean.replace(this.pattern, REDACTED) : clean;
  }

  /** Remembers a password as written in a URL and percent-decoded. */
  learnPassword(password: string): void {
    this.learn(password);
    try {
      this.learn(decodeURIComponent(password));
    } catch {
      // Not valid percent-encoding: the raw text is all there is.
    }
  }

  isSensitiveHeader(name: string): boolean {
    return this.headerNames.has(name.toLowerCase());
  }

  headers(list: HeaderList): HeaderList {
    for (const [name, value] of list) if (this.isSensitiveHeader(name)) this.learn(value);
    return list.map(([name, value]) =>
      this.isSensitiveHeader(name) ? [name, REDACTED] : [name, this.scrub(value)],
    );
  }

  /** A JSON body with listed fields redacted; other text only scrubbed. */
  body(text: string): string {
    if (this.fields.size > 0) {
      const redacted = this.redactFields(text);
      if (redacted !== undefined) return this.scrub(redacted);
    }
    return this.scrub(text);
  }

  request(request: RecordedRequest): RecordedRequest {
    const headers = this.headers(request.headers);
    // A base64 body (binary) is kept as is: replacing text inside it would corrupt the bytes.
    const binary = request.bodyEncoding === 'base64';
    const body = request.body === null || binary ? request.body : this.body(request.body);
    return {
      method: request.method,
      url: this.scrub(request.url),
      targetUrl: this.scrub(request.targetUrl),
      headers,
      body,
      ...(binary ? { bodyEncoding: 'base64' as const } : {}),
    };
  }

  response(response: RecordedResponse): RecordedResponse {
    const headers = this.headers(response.headers);
    return { ...response, headers, body: this.body(response.body) };
  }

  /** The parts of `event` that may carry secrets, redacted: spread them over the event. */
  parts(event: NewEvent): Partial<EventParts> {
    return mapEventParts(event, {
      request: (request) => this.request(request),
      response: (response) => this.response(response),
      error: (error) => ({ code: error.code, message: this.scrub(error.message) }),
      reading: (reading) => this.reading(reading),
    });
  }

  private reading(reading: ProbeReading): ProbeReading {
    if (!reading.ok) return { ok: false, error: this.scrub(reading.error) };
    if ('state' in reading && this.fields.size > 0) {
      const text = JSON.stringify(reading.state) ?? 'null';
      const redacted = this.redactFields(text);
      if (redacted !== undefined) return { ok: true, state: JSON.parse(redacted) as unknown };
    }
    return reading;
  }

  /**
   * Replaces the values of listed fields anywhere in a JSON document, learning them as
   * secrets; undefined when `text` is not JSON or holds none of them. When the body is not
   * JSON (cut short, say), string and number values of listed fields are still replaced.
   */
  private redactFields(text: string): string | undefined {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return this.redactFieldsInText(text);
    }
    let changed = false;
    const visit = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(visit);
      if (value === null || typeof value !== 'object') return value;
      const copy: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) {
        if (this.fields.has(key)) {
          changed = true;
          if (typeof inner === 'string' || typeof inner === 'number') this.learn(String(inner));
          copy[key] = REDACTED;
        } else copy[key] = visit(inner);
      }
      return copy;
    };
    const redacted = visit(document);
    return changed ? JSON.stringify(redacted) : undefined;
  }

  private redactFieldsInText(text: string): string | undefined {
    let changed = false;
    let result = this.redactFormFields(text) ?? text;
    if (result !== text) changed = true;
    for (const field of this.fields) {
      const name = JSON.stringify(field).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const pattern = new RegExp(`(${name}\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"?|-?[\\d.eE+-]+)`, 'g');
      result = result.replace(pattern, (_match, prefix: string, value: string) => {
        changed = true;
        this.learn(value.replace(/^"|"$/g, ''));
        return `${prefix}"${REDACTED}"`;
      });
    }
    return changed ? result : undefined;
  }

  /**
   * A form body (`a=1&card[number]=4242`): the value of each parameter whose name, or the
   * last bracketed part of it, is a listed field is replaced and learnt as a secret.
   */
  private redactFormFields(text: string): string | undefined {
    if (!text.includes('=') || /\s/.test(text.slice(0, 200))) return undefined;
    let changed = false;
    const pairs = text.split('&').map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      let name = pair.slice(0, equals);
      try {
        name = decodeURIComponent(name.replaceAll('+', ' '));
      } catch {
        // Not valid percent-encoding: match the name as written.
      }
      const last = /\[([^\]]*)\]$/.exec(name)?.[1] ?? name;
      const value = pair.slice(equals + 1);
      if ((!this.fields.has(name) && !this.fields.has(last)) || value === '') return pair;
      changed = true;
      try {
        this.learn(decodeURIComponent(value.replaceAll('+', ' ')));
      } catch {
        this.learn(value);
      }
      return `${pair.slice(0, equals)}=${REDACTED}`;
    });
    return changed ? pairs.join('&') : undefined;
  }
}
