import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent, request, type Dispatcher } from 'undici';
import type { HeaderList, RecordedResponse } from '../history/events.js';
import { startDeadline, type Deadline } from './deadline.js';
import { TlsAgentCache, connectFirst, type ConnectedTls } from './tls.js';
import { CERTIFICATE_REFUSED, isTlsAlert } from './tls-errors.js';
import { H2Sessions, isHttp2 } from './h2.js';

/** How much of a response body is kept as text by default; the hash always covers all of it. */
export const BODY_RECORD_LIMIT = 256 * 1024;

/** TLS settings of an https target, resolved (files read) from the scenario's `target.tls`. */
export interface TlsOptions {
  /**
   * The target's real host name: sent as SNI and checked against its certificate, also when
   * the connection goes to a fault lane's proxy on 127.0.0.1 (TLS passes through untouched).
   */
  readonly servername: string;
  /** PEM CA bundle to trust instead of the system's. */
  readonly ca?: string | undefined;
  /** PEM client certificate and key (mTLS). */
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** Skips certificate verification: an explicit opt-in, shown in every report. */
  readonly insecure: boolean;
}

/** How an attempt reaches the target: the HTTP version and, for https, TLS. */
export interface TransportOptions {
  /** http1: HTTP/1.1; h2: HTTP/2 over TLS (ALPN); h2c: cleartext HTTP/2 with prior knowledge. */
  readonly protocol: 'http1' | 'h2' | 'h2c';
  /** Set for https targets. */
  readonly tls?: TlsOptions | undefined;
}

export interface AttemptRequest {
  /** Where to send it: a lane's proxy or the target. */
  readonly url: string;
  readonly method: string;
  readonly headers: HeaderList;
  /** Text is sent as UTF-8; bytes as they are. */
  readonly body: string | Buffer | null;
  readonly timeoutMs: number;
  /** One request per connection (faulted lanes). */
  readonly freshConnection: boolean;
  /** HTTP version and TLS; absent: HTTP/1.1 as the URL's scheme says, system CAs. */
  readonly transport?: TransportOptions | undefined;
}

/** The bytes of a request body (text as UTF-8); null when there is none. */
export function bodyBytesOf(body: AttemptRequest['body']): Buffer | null {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

export type AttemptResult =
  | { readonly kind: 'response'; readonly response: RecordedResponse; readonly durationMs: number }
  | {
      readonly kind: 'error';
      readonly code: string;
      readonly message: string;
      readonly durationMs: number;
    };

/**
 * Sends attempts with undici and reports what happened, never judging it. Clean attempts share
 * a keep-alive pool; faulted ones each get their own connection, closed afterwards.
 *
 * Must not: retry, follow redirects, throw for a network failure (it is a result), or let an
 * attempt run past its timeout (headers and body: the deadline of `deadline.ts` cuts both).
 */
export class AttemptClient {
  /**
   * `stop`: when it aborts (the run is interrupted or hit a limit), requests in flight end at
   * once as errors with code INTERRUPTED: their outcome is unknown. It gets one listener for
   * all attempts (see `deadline.ts`), never one per attempt.
   */
  constructor(
    private readonly options: {
      readonly stop?: AbortSignal | undefined;
      /** Bytes of each response body kept as text (default BODY_RECORD_LIMIT). */
      readonly bodyLimit?: number | undefined;
    } = {},
  ) {}

  get bodyLimit(): number {
    return this.options.bodyLimit ?? BODY_RECORD_LIMIT;
  }

  get stopSignal(): AbortSignal | undefined {
    return this.options.stop;
  }

  private readonly pooled = new Agent({ connections: 128, keepAliveTimeout: 4000 });
  private readonly fresh = new Agent({ pipelining: 0, keepAliveTimeout: 1 });
  /** Kept-alive connections for synchronised bursts on clean lanes (one per request in flight). */
  readonly burstAgent = new HttpAgent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256 });
  /** The same three for https targets, one set per TLS configuration (`tls.ts`). */
  private readonly tlsAgents = new TlsAgentCache();

  /** The keep-alive agent of synchronised bursts for `transport` (https: one per TLS config). */
  burstAgentFor(transport: TransportOptions | undefined): HttpAgent {
    return transport?.tls === undefined
      ? this.burstAgent
      : this.tlsAgents.agentsFor(transport.tls).burst;
  }

  /** What probes of an https target send with: its trust settings, SNI from each URL. */
  probeDispatcher(transport: TransportOptions | undefined): Dispatcher | undefined {
    return transport?.tls === undefined ? undefined : this.tlsAgents.agentsFor(transport.tls).probe;
  }

  /** HTTP/2 sessions (h2, h2c), opened on the first HTTP/2 attempt: see `h2.ts`. */
  private h2: H2Sessions | undefined;

  async send(attempt: AttemptRequest): Promise<AttemptResult> {
    if (isHttp2(attempt.transport)) return (this.h2 ??= new H2Sessions(this.options)).send(attempt);
    let started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
    const tls = attempt.transport?.tls;
    let dispatcher: Dispatcher;
    let ownConnection: ConnectedTls | undefined;
    if (tls === undefined) {
      dispatcher = attempt.freshConnection ? this.fresh : this.pooled;
    } else if (!attempt.freshConnection) {
      dispatcher = this.tlsAgents.agentsFor(tls).pooled;
    } else {
      // A faulted lane over TLS: the handshake first, then the attempt's clock (`tls.ts`).
      const connected = await connectFirst(attempt.url, tls, attempt.timeoutMs, this.options.stop);
      if (!('dispatcher' in connected))
        return { kind: 'error', ...connected, durationMs: elapsed() };
      ownConnection = connected;
      dispatcher = connected.dispatcher;
      started = performance.now();
    }
    // Covers headers and body: aborting it destroys a body still arriving (a drip, or a
    // chunked body that never ends), so the attempt ends at its timeout whatever GC does.
    const deadline = startDeadline(attempt.timeoutMs, this.options.stop);
    try {
      const response = await request(attempt.url, {
        method: attempt.method,
        headers: attempt.headers.flatMap(([name, value]) => [name, value]),
        body: attempt.body ?? undefined,
        dispatcher,
        reset: attempt.freshConnection,
        signal: deadline.signal,
        headersTimeout: attempt.timeoutMs + 1000,
        bodyTimeout: attempt.timeoutMs + 1000,
      });
      const body = await readBody(response.body, this.bodyLimit);
      return {
        kind: 'response',
        response: { status: response.statusCode, headers: headerList(response.headers), ...body },
        durationMs: elapsed(),
      };
    } catch (error) {
      // An alert the target sent on a connection of our own names the cause better than
      // the closed socket undici saw.
      const alert = deadline.timedOut ? undefined : ownConnection?.error();
      const { code, message } = attemptErrorOf(alert ?? error, deadline, this.options.stop);
      return { kind: 'error', code, message, durationMs: elapsed() };
    } finally {
      deadline.settle();
      ownConnection?.dispatcher.destroy().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.burstAgent.destroy();
    await this.h2?.close();
    await Promise.all([this.pooled.close(), this.fresh.close(), this.tlsAgents.close()]);
  }
}

/**
 * What a failed attempt is recorded with: INTERRUPTED when the run stopped, TIMEOUT when its
 * deadline ran out (whatever error the cut produced), else the error's own code.
 */
export function attemptErrorOf(
  error: unknown,
  deadline: Pick<Deadline, 'timedOut'>,
  stop: AbortSignal | undefined,
): { code: string; message: string } {
  if (stop?.aborted === true) return interrupted(stop);
  if (deadline.timedOut) {
    return { code: 'TIMEOUT', message: error instanceof Error ? error.message : String(error) };
  }
  return errorCodeOf(error);
}

/** The error an attempt cut short by the run stopping is recorded with. */
export function interrupted(stop: AbortSignal): { code: string; message: string } {
  const why = stop.reason instanceof Error ? stop.reason.message : 'the run stopped';
  return { code: 'INTERRUPTED', message: `no answer recorded: ${why}` };
}

/**
 * Reads a whole body: hashes every byte, keeps the first `limit` bytes as text, so memory
 * stays bounded however large the body is (a text cut inside a UTF-8 sequence ends in U+FFFD).
 */
export async function readBody(
  stream: AsyncIterable<Buffer>,
  limit = BODY_RECORD_LIMIT,
): Promise<Pick<RecordedResponse, 'body' | 'bodyBytes' | 'bodySha256' | 'bodyTruncated'>> {
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let bodyBytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bodyBytes += chunk.length;
    if (keptBytes < limit) {
      const part = chunk.subarray(0, limit - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
  }
  return {
    body: Buffer.concat(kept).toString('utf8'),
    bodyBytes,
    bodySha256: hash.digest('hex'),
    bodyTruncated: bodyBytes > keptBytes,
  };
}

function headerList(headers: Record<string, string | string[] | undefined>): HeaderList {
  const list: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value])
      list.push([name.toLowerCase(), item]);
  }
  return list;
}

const GENERIC_ERROR_NAMES = new Set(['Error', 'TypeError', 'AbortError', 'DOMException']);

/** A stable code for a failed attempt: ECONNRESET, UND_ERR_SOCKET, TIMEOUT, ECONNREFUSED… */
export function errorCodeOf(error: unknown): { code: string; message: string } {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (
      current.name === 'TimeoutError' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT'
    ) {
      return { code: 'TIMEOUT', message: current.message };
    }
    if (typeof code === 'string' && code !== 'UND_ERR_ABORTED')
      return { code, message: current.message };
    current = current.cause;
  }
  // Some errors carry only a class name: undici's HTTPParserError for bytes that are not HTTP.
  for (const seenError of seen) {
    const { name } = seenError as Error;
    if (!GENERIC_ERROR_NAMES.has(name))
      return { code: name, message: (seenError as Error).message };
  }
  return { code: 'UNKNOWN', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Errors that happen before any byte of the request could reach the target: the attempt
 * certainly was not processed.
 */
const NOT_DELIVERED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  // A certificate the client refused: the TLS handshake ended before any request byte.
  ...CERTIFICATE_REFUSED,
]);

export function outcomeOfError(code: string, laneDelivers: 'always' | 'never'): 'fail' | 'info' {
  // A TLS alert from the target (a client certificate it refuses): its HTTP layer saw nothing.
  return laneDelivers === 'never' || NOT_DELIVERED.has(code) || isTlsAlert(code) ? 'fail' : 'info';
}
