import type { HeaderList, RecordedRequest, RecordedResponse } from './events.js';
import { mapEventParts, type EventParts } from './event-parts.js';
import type { NewEvent } from './recorder.js';

/** Strings longer than this are kept as they are (interning them would rarely share). */
const MAX_INTERNED_LENGTH = 4096;
/** Entries across all tables before they start afresh, so unique values cannot grow them. */
const MAX_ENTRIES = 65_536;

type Pair = readonly [string, string];

/**
 * Shares equal strings, header pairs and response bodies between the events of a history.
 * Every response carries its own copy of its headers and body, and a long run holds millions
 * of them: the same `content-type` pair, the same replayed body under one key, the same error
 * message. Interning keeps one copy of each, which is most of an event's memory.
 *
 * Response bodies are shared by digest: two responses with the same SHA-256 of the whole body
 * and the same kept text are the same body. Tables are bounded: past MAX_ENTRIES they start
 * afresh (what is already shared stays shared).
 *
 * Must not: change any value (an interned event serialises exactly as the original).
 */
export class Interner {
  private strings = new Map<string, string>();
  private pairs = new Map<string, Map<string, Pair>>();
  private bodies = new Map<string, { readonly body: string; readonly sha: string }>();
  private entries = 0;

  string(value: string): string {
    if (value.length > MAX_INTERNED_LENGTH) return value;
    const found = this.strings.get(value);
    if (found !== undefined) return found;
    this.count();
    this.strings.set(value, value);
    return value;
  }

  headers(list: HeaderList): HeaderList {
    return list.map((pair) => this.pair(pair));
  }

  request(request: RecordedRequest): RecordedRequest {
    return {
      method: this.string(request.method),
      url: this.string(request.url),
      targetUrl: this.string(request.targetUrl),
      headers: this.headers(request.headers),
      body: request.body === null ? null : this.string(request.body),
      ...(request.bodyEncoding === undefined ? {} : { bodyEncoding: request.bodyEncoding }),
    };
  }

  response(response: RecordedResponse): RecordedResponse {
    const key = `${response.bodySha256}:${response.body.length}`;
    let shared = this.bodies.get(key);
    if (shared === undefined || shared.body !== response.body) {
      this.count();
      shared = { body: response.body, sha: this.string(response.bodySha256) };
      this.bodies.set(key, shared);
    }
    return {
      status: response.status,
      headers: this.headers(response.headers),
      body: shared.body,
      bodyBytes: response.bodyBytes,
      bodySha256: shared.sha,
      bodyTruncated: response.bodyTruncated,
    };
  }

  /** The parts of `event` worth sharing, interned: spread them over the event. */
  parts(event: NewEvent): Partial<EventParts> {
    return mapEventParts(event, {
      request: (request) => this.request(request),
      response: (response) => this.response(response),
      error: (error) => ({ code: this.string(error.code), message: this.string(error.message) }),
    });
  }

  private pair(pair: Pair): Pair {
    const [name, value] = pair;
    if (name.length > MAX_INTERNED_LENGTH || value.length > MAX_INTERNED_LENGTH) return pair;
    let byValue = this.pairs.get(name);
    if (byValue === undefined) {
      this.count();
      byValue = new Map();
      this.pairs.set(this.string(name), byValue);
    }
    const found = byValue.get(value);
    if (found !== undefined) return found;
    this.count();
    const shared: Pair = [this.string(name), this.string(value)];
    byValue.set(shared[1], shared);
    return shared;
  }

  private count(): void {
    this.entries += 1;
    if (this.entries <= MAX_ENTRIES) return;
    this.strings = new Map();
    this.pairs = new Map();
    this.bodies = new Map();
    this.entries = 1;
  }
}
