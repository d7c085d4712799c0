import { isUtf8 } from 'node:buffer';
import type { HeaderList, RecordedRequest } from '../history/events.js';
import { encodeBody, replaceInStrings } from '../plan/body.js';
import type { Operation, RequestOverride, SendStep } from '../plan/schedule.js';
import { fillStrings, fillText, fillUrl, type TemplateVars } from '../plan/template.js';
import { expandEnv } from '../probe/probes.js';
import type { Scenario } from '../scenario/schema.js';

/**
 * Builds one attempt's request from the scenario, the operation and the send step: method,
 * path and query (from the path template, `target.query` and overrides), headers in the case
 * the scenario wrote them, the key (quoted, a literal override, or absent) and the body in its
 * encoding. It returns the request as sent and as recorded: header values outside ASCII go
 * out as their UTF-8 bytes and are recorded readably; a body that is not UTF-8 text is
 * recorded in base64.
 *
 * Must not: send anything, record anything, or change header names' case.
 */

export interface RequestInput {
  readonly scenario: Scenario;
  /** The target's base URL without a trailing slash. */
  readonly targetBase: string;
  /** host:port the attempt is sent to (a fault lane's proxy, or the target). */
  readonly laneAddress: string;
  /** The pattern's extra headers. */
  readonly planHeaders: Readonly<Record<string, string>>;
  readonly operation: Operation;
  readonly send: SendStep;
  readonly vars: TemplateVars;
  readonly sinkUrl: string;
}

export interface BuiltRequest {
  readonly method: string;
  /** Where the attempt goes (the lane's address). */
  readonly url: string;
  /** The key as sent (unquoted): the operation's, or the override's literal. */
  readonly key: string;
  /** Headers as they go on the wire: names as written, values as Latin-1 strings of bytes. */
  readonly wireHeaders: HeaderList;
  readonly body: Buffer | null;
  /** The request as the history records it (before redaction). */
  readonly recorded: RecordedRequest;
}

export function buildRequest(input: RequestInput): BuiltRequest {
  const { scenario, operation, send } = input;
  const override: RequestOverride = send.override ?? {};
  const key = override.key ?? operation.key;
  const vars: TemplateVars = { ...input.vars, key, sink: input.sinkUrl };
  const method = override.method ?? scenario.target.method;
  const path = pathWithQuery(override.path ?? scenario.target.path, vars, [
    scenario.target.query,
    override.query ?? {},
  ]);
  const target = new URL(input.targetBase);
  const targetUrl = `${input.targetBase}${path}`;
  const url = `${target.protocol}//${input.laneAddress}${target.pathname.replace(/\/+$/, '')}${path}`;

  const headers = new HeaderSet();
  headers.set('host', target.host);
  for (const [name, value] of Object.entries(scenario.target.headers))
    headers.set(name, headerText(value, vars));
  for (const [name, value] of Object.entries(input.planHeaders))
    headers.set(name, headerText(value, vars));
  const tenantSet = send.tenant === null ? {} : (scenario.target.tenants[send.tenant] ?? {});
  for (const [name, value] of Object.entries(tenantSet)) headers.set(name, headerText(value, vars));
  if (send.keySent) headers.set(scenario.key.header, scenario.key.quoted ? `"${key}"` : key);
  for (const [name, value] of Object.entries(override.headers ?? {})) {
    if (value === null) headers.delete(name);
    else headers.set(name, headerText(value, vars));
  }

  const encoding = override.body?.encoding ?? scenario.payload.encoding;
  const value =
    override.body !== undefined
      ? fillStrings(override.body.value, vars)
      : send.variant === 'original'
        ? operation.payload
        : operation.differentPayload;
  const encoded = encodeBody(
    replaceInStrings(value, '{{sink}}', input.sinkUrl),
    encoding,
    operation.marker,
  );
  if (encoded !== null && !headers.has('content-type'))
    headers.set('Content-Type', encoded.contentType);

  const body = encoded?.bytes ?? null;
  return {
    method,
    url,
    key,
    wireHeaders: headers.list.map(([name, text]) => [name, wireValue(text)]),
    body,
    recorded: { method, url, targetUrl, headers: headers.list, ...recordedBody(body) },
  };
}

/** A header value: {{templates}} filled, then ${ENV_VARS} expanded (tokens stay out of files). */
export function headerText(template: string, vars: TemplateVars): string {
  return expandEnv(fillText(template, vars));
}

/**
 * A header value as HTTP carries it: characters outside ASCII become their UTF-8 bytes (a
 * Latin-1 string of them, which both HTTP clients write byte for byte).
 */
export function wireValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/** A body as the history keeps it: UTF-8 text as is, other bytes in base64. */
export function recordedBody(body: Buffer | null): Pick<RecordedRequest, 'body' | 'bodyEncoding'> {
  if (body === null) return { body: null };
  if (isUtf8(body)) return { body: body.toString('utf8') };
  return { body: body.toString('base64'), bodyEncoding: 'base64' };
}

/** Headers in order, names as written; a name set again (any case) replaces the earlier one. */
class HeaderSet {
  readonly list: [string, string][] = [];

  private indexOf(name: string): number {
    const lower = name.toLowerCase();
    return this.list.findIndex(([header]) => header.toLowerCase() === lower);
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  delete(name: string): void {
    const index = this.indexOf(name);
    if (index >= 0) this.list.splice(index, 1);
  }

  set(name: string, value: string): void {
    this.delete(name);
    this.list.push([name, value]);
  }
}

interface QueryEntry {
  /** The name decoded, to match changes against. */
  readonly name: string;
  /** `name=value` as it goes on the wire. */
  readonly raw: string;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/**
 * The path template filled (values percent-encoded), with its own query string kept as
 * written and each change set applied in turn: a name set replaces its earlier occurrences,
 * null removes it.
 */
export function pathWithQuery(
  template: string,
  vars: TemplateVars,
  changes: readonly Readonly<Record<string, string | null>>[],
): string {
  const filled = fillUrl(template, vars);
  const mark = filled.indexOf('?');
  const pathname = mark < 0 ? filled : filled.slice(0, mark);
  const search = mark < 0 ? '' : filled.slice(mark + 1);
  let entries: QueryEntry[] = search
    .split('&')
    .filter((part) => part !== '')
    .map((raw) => ({ name: decoded(raw.split('=')[0] ?? ''), raw }));
  for (const change of changes) {
    for (const [name, template] of Object.entries(change)) {
      const at = entries.findIndex((entry) => entry.name === name);
      entries = entries.filter((entry) => entry.name !== name);
      if (template === null) continue;
      const value = expandEnv(fillText(template, vars));
      const entry = { name, raw: `${encodeURIComponent(name)}=${encodeURIComponent(value)}` };
      entries.splice(at < 0 ? entries.length : at, 0, entry);
    }
  }
  return entries.length === 0 && mark < 0
    ? pathname
    : `${pathname}?${entries.map((entry) => entry.raw).join('&')}`;
}
