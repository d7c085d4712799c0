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

/** Secret values shorter than this are not searched for elsewhere (too many false hits). */
const MIN_SECRET_LENGTH = 6;

export interface RedactionRules {
  /** More header names to redact (case-insensitive). */
  readonly headers?: readonly string[];
  /** JSON field names whose values are redacted in request and response bodies. */
  readonly jsonFields?: readonly string[];
}

/**
 * Keeps secrets out of everything idemproof writes. The history is redacted as it is
 * recorded, so every report, the terminal and curl lines (all built from the history) are
 * clean by construction.
 *
 * Two layers: by name (sensitive headers, listed JSON fields) and by value: every secret
 * value seen in a sensitive header or field is remembered, and any later occurrence of it
 * in any recorded text (a body that echoes the token, an error message, a URL) is replaced
 * too. Request bodies and headers are redacted after the request was sent: the target
 * always gets the real values.
 *
 * Must not: change anything but secret values, or leave the value of a listed header or
 * field readable in any recorded event.
 */
export class Redactor {
  private readonly headerNames: ReadonlySet<string>;
  private readonly fields: ReadonlySet<string>;
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  constructor(rules: RedactionRules = {}) {
    this.headerNames = new Set([
      ...ALWAYS_REDACTED_HEADERS,
      ...(rules.headers ?? []).map((name) => name.toLowerCase()),
    ]);
    this.fields = new Set(rules.jsonFields ?? []);
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

  /** `text` with every known secret value replaced. */
  scrub(text: string): string {
    if (this.pattern === undefined || text.length < MIN_SECRET_LENGTH) return text;
    this.pattern.lastIndex = 0;
    return this.pattern.test(text) ? text.replace(this.pattern, REDACTED) : text;
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
    const body = request.body === null ? null : this.body(request.body);
    return {
      method: request.method,
      url: this.scrub(request.url),
      targetUrl: this.scrub(request.targetUrl),
      headers,
      body,
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
    let result = text;
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
}
