import { createHash } from 'node:crypto';
import {
  connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { HeaderList } from '../history/events.js';
import { startDeadline, type Deadline } from './deadline.js';
import {
  attemptErrorOf,
  bodyBytesOf,
  errorCodeOf,
  interrupted,
  readBody,
  type AttemptRequest,
  type AttemptResult,
  type TransportOptions,
} from './send.js';
import { HANDSHAKE_TIMEOUT_MS, tlsConnectOptions } from './tls.js';

/**
 * HTTP/2 attempts (node:http2): `h2` over TLS with ALPN, `h2c` in cleartext with prior
 * knowledge. Clean attempts to one origin (and one TLS configuration) share a session; an
 * attempt through a faulted lane gets a session of its own, destroyed when it ends, so a fault
 * never reaches another attempt. Bursts use the single-packet release (`sendSinglePacketBurst`).
 * On faulted lanes, sessions open the same way every time (`openFaulted`) before the clock
 * starts, so the bytes a target sends before any response are known (`openingBytes`, measured
 * by `nemesis/tls-prelude.ts`) and a lane can cut after them.
 *
 * Must not: retry, follow redirects, throw for a network failure (it is a result), let an
 * attempt run past its timeout (headers and body), add a listener per attempt to the stop
 * signal (`deadline.ts` has one), or reuse a session that a fault or GOAWAY touched.
 */

/** Does this transport speak HTTP/2? */
export function isHttp2(transport: TransportOptions | undefined): boolean {
  return transport?.protocol === 'h2' || transport?.protocol === 'h2c';
}

/** The most the single-packet release waits for the PING that proves the target read all. */
export const H2_SETTLE_CAP_MS = 100;

interface H2Options {
  readonly stop?: AbortSignal | undefined;
  readonly bodyLimit?: number | undefined;
  /** Bursts: a fixed pause (ms) before the release, or 'auto' (the PING round trip). */
  readonly releasePauseMs?: number | 'auto' | undefined;
}

/** RST_STREAM and GOAWAY error codes (RFC 9113 §7), for stable attempt error codes. */
const H2_ERROR_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

const h2ErrorName = (code: number): string => H2_ERROR_NAMES[code] ?? `ERROR_${code}`;
const CANCEL = H2_ERROR_NAMES.indexOf('CANCEL');
const ALPN_REFUSED = 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL';

/** Raised when the target does not speak HTTP/2 the way the scenario says. */
class H2NotSpokenError extends Error {
  readonly code = 'H2_NOT_SPOKEN';
}

/** Per-session facts that name the errors of its streams. */
interface SessionState {
  goaway?: { errorCode: number; lastStreamId: number };
  /** host:port and protocol, for messages. */
  readonly where: string;
  /** Did the target send its SETTINGS (it speaks HTTP/2)? */
  settings: boolean;
  /** Did the target acknowledge our SETTINGS? */
  acknowledged: boolean;
  /** The TCP socket under the session: its `bytesRead` counts what the target sent, TLS included. */
  readonly raw: Socket;
  /** The session's connection (TLS over `raw` for h2): a session it fails may never close. */
  readonly socket: Socket;
  failure?: Error;
}

const states = new WeakMap<ClientHttp2Session, SessionState>();

const where = (session: ClientHttp2Session): string => states.get(session)?.where ?? 'the target';

/**
 * The connection of a session: TCP (h2c), or TLS offering ALPN h2 only over a TCP socket of
 * its own (h2), with SNI and the certificate check for the real host name (`tls.ts`).
 */
function dial(url: URL, transport: TransportOptions): { raw: Socket; socket: Socket } {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const h2 = transport.protocol === 'h2';
  const raw = tcpConnect({ host, port: url.port === '' ? (h2 ? 443 : 80) : Number(url.port) });
  if (!h2) return { raw, socket: raw };
  const tls = transport.tls ?? { servername: host, insecure: false };
  const socket = tlsConnect({ ...tlsConnectOptions(tls), ALPNProtocols: ['h2'], socket: raw });
  return { raw, socket };
}

/**
 * Faulted lanes over TLS: HTTP/2 starts once the handshake is over and the target's first
 * session ticket came (or TICKET_WAIT_MS after the handshake without one). The target has then
 * written its SETTINGS before our preface arrives, so it never sends them in one TLS record
 * with its ACK of ours, and the opening's size does not depend on how the bytes were split on
 * the way (through Toxiproxy, 3 of 40 openings without this wait took one more record).
 */
function dialSettled(
  url: URL,
  transport: TransportOptions,
  signal: AbortSignal,
): Promise<{ raw: Socket; socket: Socket }> {
  const dialed = dial(url, transport);
  const socket = dialed.socket as TLSSocket;
  return new Promise((resolve, reject) => {
    let secure = false;
    let ticket = false;
    let timer: NodeJS.Timeout | undefined;
    const end = (error?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', cut);
      socket.off('session', ticketed).off('error', end).off('close', closed);
      if (error === undefined) return resolve(dialed);
      socket.destroy();
      reject(error);
    };
    const check = (): void => {
      if (secure && ticket) end();
    };
    const ticketed = (): void => {
      ticket = true;
      check();
    };
    const closed = (): void => end(new Error('the connection closed during the TLS handshake'));
    const cut = (): void => end(signal.reason as Error);
    if (signal.aborted) return cut();
    signal.addEventListener('abort', cut, { once: true });
    socket.on('session', ticketed).once('error', end).once('close', closed);
    socket.once('secureConnect', () => {
      secure = true;
      const notSpoken = alpnProblem(socket, `${url.host} (h2)`);
      if (notSpoken !== undefined) return end(notSpoken);
      timer = setTimeout(ticketed, TICKET_WAIT_MS);
      check();
    });
  });
}

/** The longest a faulted TLS session waits for a session ticket after the handshake. */
const TICKET_WAIT_MS = 50;

/** H2NotSpokenError when a TLS connection did not negotiate ALPN h2, else undefined. */
function alpnProblem(socket: TLSSocket, target: string): H2NotSpokenError | undefined {
  const chosen = socket.alpnProtocol;
  if (chosen === 'h2') return undefined;
  return new H2NotSpokenError(
    `${target} did not negotiate HTTP/2 over TLS (ALPN answered ${chosen === false || chosen === null ? 'nothing' : `'${chosen}'`}); set target.http to 1.1 or enable h2 on the server`,
  );
}

/**
 * Opens a session to the origin of `origin`, with the transport's TLS settings, on a new
 * connection or on `dialed` (`dialSettled`).
 */
function openSession(
  origin: string,
  transport: TransportOptions,
  dialed?: { raw: Socket; socket: Socket },
): ClientHttp2Session {
  const url = new URL(origin);
  const target = `${url.host} (${transport.protocol})`;
  const authority = `${transport.protocol === 'h2' ? 'https' : 'http'}://${url.host}`;
  const { raw, socket } = dialed ?? dial(url, transport);
  // Requests wait for nothing: no settings round trip before the first stream.
  const session = connect(authority, { createConnection: () => socket });
  const state: SessionState = {
    settings: false,
    acknowledged: false,
    where: target,
    raw,
    socket,
  };
  states.set(session, state);
  session.on('remoteSettings', () => (state.settings = true));
  session.on('localSettings', () => (state.acknowledged = true));
  session.on('goaway', (errorCode: number, lastStreamId: number) => {
    state.goaway = { errorCode, lastStreamId };
  });
  // A session error also destroys its streams, which report it; this only keeps it handled.
  session.on('error', (error: Error) => (state.failure ??= error));
  // node:http2 may leave a session open when its TLS socket fails (an alert after the
  // handshake): the session ends with the socket's error.
  socket.on('error', (error: Error) => {
    state.failure ??= error;
    session.destroy();
  });
  if (transport.protocol === 'h2' && dialed === undefined) {
    // node:http2 closes a session whose server picked no protocol; say why, naming the target.
    socket.once('secureConnect', () => {
      const notSpoken = alpnProblem(socket as TLSSocket, target);
      if (notSpoken === undefined) return;
      state.failure = notSpoken;
      session.destroy(notSpoken);
    });
  }
  return session;
}

/**
 * The code an HTTP/2 attempt failure is recorded with: TIMEOUT and INTERRUPTED first, then
 * H2_NOT_SPOKEN, H2_GOAWAY_<code>, the dead session's own error (ECONNRESET, a TLS code…),
 * H2_RST_<code> for a stream reset, else the error's code.
 */
function h2ErrorOf(
  error: unknown,
  stream: ClientHttp2Stream | undefined,
  session: ClientHttp2Session,
  deadline: Pick<Deadline, 'timedOut'>,
  stop: AbortSignal | undefined,
): { code: string; message: string } {
  const state = states.get(session);
  const judged = attemptErrorOf(error, deadline, stop);
  if (judged.code === 'TIMEOUT' || judged.code === 'INTERRUPTED') return judged;
  if (state?.failure instanceof H2NotSpokenError) {
    return { code: state.failure.code, message: state.failure.message };
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  // An HTTP/1.1 server answers the prior-knowledge preface with a 400 before any SETTINGS,
  // which node:http2 reports as a bare protocol error.
  if (code === 'ERR_HTTP2_ERROR' && state?.settings === false) {
    return {
      code: 'H2_NOT_SPOKEN',
      message: `${where(session)} answered without HTTP/2 SETTINGS (${(error as Error).message}): it does not speak cleartext HTTP/2 with prior knowledge (h2c); set target.http to 1.1`,
    };
  }
  // A TLS server that offers ALPN without h2 refuses the handshake with this alert.
  const refused = [error, (error as Error | undefined)?.cause, state?.failure].some(
    (cause) => (cause as { code?: unknown } | undefined)?.code === ALPN_REFUSED,
  );
  if (refused) return alpnRefused(where(session));
  const goaway = state?.goaway;
  if (
    goaway !== undefined &&
    (code === 'ERR_HTTP2_SESSION_ERROR' || code === 'ERR_HTTP2_GOAWAY_SESSION')
  ) {
    const processed = stream?.id !== undefined && stream.id <= goaway.lastStreamId;
    return {
      code: `H2_GOAWAY_${h2ErrorName(goaway.errorCode)}`,
      message: `the target sent GOAWAY (${h2ErrorName(goaway.errorCode)}, last stream ${goaway.lastStreamId}): this stream ${processed ? 'may have been processed' : 'was not processed'}`,
    };
  }
  // A session that died (socket reset, TLS failure) cancels its streams: what happened is the
  // session's error.
  const failure = state?.failure;
  const cancelled = code === 'ERR_HTTP2_STREAM_CANCEL' || stream?.rstCode === CANCEL;
  if (cancelled && failure !== undefined) return errorCodeOf(failure);
  if (cancelled && session.destroyed) {
    return {
      code: 'H2_CONNECTION_CLOSED',
      message: 'the connection closed before the response was complete',
    };
  }
  if (code === 'ERR_HTTP2_STREAM_ERROR' && stream !== undefined) {
    return {
      code: `H2_RST_${h2ErrorName(stream.rstCode ?? 2)}`,
      message: (error as Error).message,
    };
  }
  if (code === 'ERR_HTTP2_STREAM_CANCEL' && (error as Error).cause !== undefined)
    return errorCodeOf((error as Error).cause);
  if (code === undefined && failure !== undefined) return errorCodeOf(failure);
  return judged;
}

const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/** A TLS server that offers ALPN without h2 refuses the handshake: H2_NOT_SPOKEN. */
const alpnRefused = (target: string): Failure => ({
  code: 'H2_NOT_SPOKEN',
  message: `${target} refused ALPN h2 (no_application_protocol): it does not speak HTTP/2 over TLS; set target.http to 1.1 or enable h2 on the server`,
});

/** HTTP/2 request headers from an attempt: pseudo-headers, lowercase names, no hop-by-hop. */
function requestHeaders(attempt: AttemptRequest, bodyLength: number | null): OutgoingHttpHeaders {
  const url = new URL(attempt.url);
  const headers: OutgoingHttpHeaders = {
    ':method': attempt.method,
    ':scheme': attempt.transport?.protocol === 'h2' ? 'https' : 'http',
    ':path': `${url.pathname}${url.search}`,
    ':authority': url.host,
  };
  for (const [rawName, value] of attempt.headers) {
    const name = rawName.toLowerCase();
    if (CONNECTION_HEADERS.has(name)) continue;
    // The target's own host name, not the lane's proxy address.
    if (name === 'host') {
      headers[':authority'] = value;
      continue;
    }
    const existing = headers[name];
    headers[name] =
      existing === undefined
        ? value
        : [...(Array.isArray(existing) ? existing : [String(existing)]), value];
  }
  if (bodyLength !== null) headers['content-length'] = String(bodyLength);
  return headers;
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2); content-length is ours. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

function responseHeaders(headers: IncomingHttpHeaders): HeaderList {
  const list: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [String(value)]) list.push([name, item]);
  }
  return list;
}

/** A stream opened for an attempt; `release` sends what was held back (single-packet). */
interface OpenedStream {
  readonly result: Promise<AttemptResult>;
  /** Resolves once everything but the held-back part was handed to the session. */
  readonly written: Promise<void>;
  release(): void;
}

/**
 * Opens a stream on `session` for `attempt` under its own deadline. With `hold`, the last body
 * byte (or, for an empty body, END_STREAM) is held back until `release()`.
 */
function openStream(
  session: ClientHttp2Session,
  attempt: AttemptRequest,
  hold: boolean,
  options: H2Options,
): OpenedStream {
  const started = performance.now();
  const elapsed = (): number => roundMs(performance.now() - started);
  const { stop } = options;
  const deadline = startDeadline(attempt.timeoutMs, stop);
  const body = bodyBytesOf(attempt.body);
  const failed = (error: unknown, stream?: ClientHttp2Stream): AttemptResult => {
    const { code, message } = h2ErrorOf(error, stream, session, deadline, stop);
    return { kind: 'error', code, message, durationMs: elapsed() };
  };
  let stream: ClientHttp2Stream;
  try {
    stream = session.request(requestHeaders(attempt, body?.length ?? null), {
      endStream: !hold && body === null,
    });
  } catch (error) {
    deadline.settle();
    const result = Promise.resolve(failed(error));
    return { result, written: Promise.resolve(), release: () => undefined };
  }
  const cut = (): void => {
    const reason: unknown = deadline.signal.reason;
    stream.destroy(reason instanceof Error ? reason : new Error('stopped'));
  };
  if (deadline.signal.aborted) queueMicrotask(cut);
  else deadline.signal.addEventListener('abort', cut, { once: true });

  const result = new Promise<AttemptResult>((resolve) => {
    let answered = false;
    const fail = (error: unknown): void => {
      deadline.settle();
      const durationMs = elapsed();
      // Named on the next turn: a dying session cancels its streams before it reports its
      // own error (a reset socket, say), which is what happened to them.
      setImmediate(() => resolve({ ...failed(error, stream), durationMs }));
    };
    stream.on('error', fail);
    stream.once('close', () => {
      // Closed with no error and no answer: a reset with NO_ERROR, or the session ending.
      if (!answered) fail(states.get(session)?.failure ?? streamClosedError(stream));
    });
    stream.once('response', (headers) => {
      answered = true;
      readBody(stream, options.bodyLimit).then((read) => {
        deadline.settle();
        resolve({
          kind: 'response',
          response: {
            status: Number(headers[':status'] ?? 0),
            headers: responseHeaders(headers),
            ...read,
          },
          durationMs: elapsed(),
        });
      }, fail);
    });
  });

  if (!hold) {
    if (body !== null) stream.end(body);
    return { result, written: Promise.resolve(), release: () => undefined };
  }
  const content = body ?? Buffer.alloc(0);
  const last = content.subarray(Math.max(0, content.length - 1));
  const written =
    content.length > 1
      ? new Promise<void>((resolve) => {
          stream.write(content.subarray(0, content.length - 1), () => resolve());
          void result.then(() => resolve());
        })
      : Promise.resolve();
  return {
    result,
    written,
    release: () => {
      if (!stream.destroyed) stream.end(last);
    },
  };
}

function streamClosedError(stream: ClientHttp2Stream): Error {
  const rst = stream.rstCode ?? 0;
  return Object.assign(
    new Error(`the stream closed (RST_STREAM ${h2ErrorName(rst)}) before any response`),
    { code: `H2_RST_${h2ErrorName(rst)}` },
  );
}

/** One session key per origin and TLS configuration. */
function sessionKey(attempt: AttemptRequest): string {
  const url = new URL(attempt.url);
  const tls = attempt.transport?.tls;
  const digest = createHash('sha256')
    .update(JSON.stringify([tls?.servername, tls?.ca, tls?.cert, tls?.key, tls?.insecure]))
    .digest('hex');
  return `${attempt.transport?.protocol ?? ''} ${url.host} ${digest}`;
}

const usable = (session: ClientHttp2Session): boolean =>
  !session.closed && !session.destroyed && states.get(session)?.goaway === undefined;

/**
 * The HTTP/2 side of `AttemptClient`: a session per origin and TLS configuration for clean
 * attempts, a session per attempt for faulted ones.
 */
export class H2Sessions {
  private readonly pooled = new Map<string, ClientHttp2Session>();
  private readonly fresh = new Set<ClientHttp2Session>();

  constructor(private readonly options: H2Options = {}) {}

  /** Holds a faulted attempt's session until it closes, so `close()` ends it too. */
  private keep(session: ClientHttp2Session): ClientHttp2Session {
    this.fresh.add(session);
    session.once('close', () => this.fresh.delete(session));
    return session;
  }

  /** The shared session of a clean attempt's origin and TLS configuration. */
  private session(attempt: AttemptRequest): ClientHttp2Session {
    const key = sessionKey(attempt);
    const found = this.pooled.get(key);
    if (found !== undefined && usable(found)) return found;
    const session = openSession(attempt.url, attempt.transport as TransportOptions);
    this.pooled.set(key, session);
    session.once('close', () => {
      if (this.pooled.get(key) === session) this.pooled.delete(key);
    });
    // Idle pooled sessions must not keep the process alive.
    session.unref();
    return session;
  }

  async send(attempt: AttemptRequest): Promise<AttemptResult> {
    let session: ClientHttp2Session;
    if (attempt.freshConnection) {
      // A faulted lane: the opening first, then the attempt's clock, so a slow lane delays
      // the request and the response, not the opening.
      const started = performance.now();
      const timeoutMs = openingTimeoutMs(attempt.timeoutMs);
      const transport = attempt.transport as TransportOptions;
      const opened = await openFaulted(attempt.url, transport, true, timeoutMs, this.options.stop);
      if (!isSession(opened))
        return { kind: 'error', ...opened, durationMs: roundMs(performance.now() - started) };
      session = this.keep(opened);
    } else {
      session = this.session(attempt);
    }
    const opened = openStream(session, attempt, false, this.options);
    const result = await opened.result;
    if (attempt.freshConnection) session.destroy();
    else if (result.kind === 'error' && !usable(session)) session.destroy();
    return result;
  }

  async close(): Promise<void> {
    const all = [...this.pooled.values(), ...this.fresh];
    this.pooled.clear();
    this.fresh.clear();
    await Promise.all(all.map(closeSession));
  }
}

/** Closes a session gracefully, or destroys it when that takes longer than a moment. */
function closeSession(session: ClientHttp2Session): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => session.destroy(), 1000);
    session.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    session.close();
  });
}

/** Resolves when the session is connected (and, for h2, ALPN chose h2), or has failed. */
function connected(session: ClientHttp2Session): Promise<void> {
  if (!session.connecting || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    session.once('connect', () => resolve());
    session.once('close', () => resolve());
  });
}

/** Resolves on the target's PING acknowledgement, or after `capMs`, whichever comes first. */
function pinged(session: ClientHttp2Session, capMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, capMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    try {
      if (session.destroyed || session.closed || session.connecting || !session.ping(done)) done();
    } catch {
      done();
    }
  });
}

/** What ended an opening: the code and message its attempts record. */
interface Failure {
  readonly code: string;
  readonly message: string;
}

const isSession = (opened: ClientHttp2Session | Failure): opened is ClientHttp2Session =>
  'request' in opened;

/**
 * A session for a faulted lane, opened the same way every time: for h2 the TLS handshake and
 * the first session ticket (`dialSettled`); our preface and SETTINGS; the target's SETTINGS
 * and its ACK of ours; then (with `ping`) a PING round trip, which also brings in all the
 * target sent before it. Each step waits for the one before, so the target answers each in a
 * write (over TLS, a record) of its own. A target sends nothing more before it answers a
 * request, so what it sent by then (`openingBytes`) is what a lane that loses the response
 * lets through before it cuts (`nemesis/tls-prelude.ts`). A burst with the automatic release
 * skips this PING: its release PING, after the held-back requests, takes its place, so every
 * faulted session gets exactly one PING answer before any response.
 *
 * Resolves with the session, or with what ended the opening (no byte of a request was sent;
 * the session, if any, destroyed): INTERRUPTED, UND_ERR_CONNECT_TIMEOUT past `timeoutMs`, a
 * TLS or socket error, H2_NOT_SPOKEN.
 */
async function openFaulted(
  origin: string,
  transport: TransportOptions,
  ping: boolean,
  timeoutMs: number,
  stop: AbortSignal | undefined,
): Promise<ClientHttp2Session | Failure> {
  const deadline = startDeadline(timeoutMs, stop);
  const url = new URL(origin);
  let session: ClientHttp2Session | undefined;
  try {
    const dialed =
      transport.protocol === 'h2' ? await dialSettled(url, transport, deadline.signal) : undefined;
    session = openSession(origin, transport, dialed);
    await settingsExchanged(session, ping, deadline.signal);
    return session;
  } catch (error) {
    session?.destroy();
    if (stop?.aborted === true) return interrupted(stop);
    if (deadline.timedOut) {
      return {
        code: 'UND_ERR_CONNECT_TIMEOUT',
        message: `HTTP/2 opening with ${url.host} (${transport.protocol}) not done within ${timeoutMs} ms`,
      };
    }
    if (session !== undefined) return h2ErrorOf(error, undefined, session, deadline, stop);
    if (error instanceof H2NotSpokenError) return { code: error.code, message: error.message };
    if ((error as { code?: unknown }).code === ALPN_REFUSED)
      return alpnRefused(`${url.host} (${transport.protocol})`);
    return errorCodeOf(error);
  } finally {
    deadline.settle();
  }
}

/** Resolves once the SETTINGS went both ways (and, with `ping`, a PING round trip). */
function settingsExchanged(
  session: ClientHttp2Session,
  ping: boolean,
  signal: AbortSignal,
): Promise<void> {
  const state = states.get(session) as SessionState;
  const listeners: [NodeJS.EventEmitter, string, () => void][] = [];
  return new Promise<void>((resolve, reject) => {
    const end = (error?: Error): void => {
      signal.removeEventListener('abort', cut);
      for (const [emitter, event, listener] of listeners) emitter.off(event, listener);
      if (error === undefined) resolve();
      else reject(error);
    };
    const closed = (): void =>
      end(
        state.failure ??
          Object.assign(new Error('the connection closed during the HTTP/2 opening'), {
            code: 'H2_CONNECTION_CLOSED',
          }),
      );
    const cut = (): void => end(signal.reason as Error);
    let pinging = false;
    const check = (): void => {
      if (!state.settings || !state.acknowledged) return;
      if (!ping) return end();
      if (pinging) return;
      pinging = true;
      try {
        session.ping((error) => (error === null ? end() : end(state.failure ?? error)));
      } catch (error) {
        end(error as Error);
      }
    };
    const listen = (emitter: NodeJS.EventEmitter, event: string, listener: () => void): void => {
      listeners.push([emitter, event, listener]);
      emitter.on(event, listener);
    };
    if (signal.aborted) return cut();
    signal.addEventListener('abort', cut, { once: true });
    if (session.destroyed || session.closed) return closed();
    listen(session, 'close', closed);
    listen(state.socket, 'error', closed);
    listen(state.socket, 'close', closed);
    listen(session, 'remoteSettings', check);
    listen(session, 'localSettings', check);
    check();
  });
}

/** How long a faulted session's opening may take: a slow lane slows each of its flights. */
const openingTimeoutMs = (attemptTimeoutMs: number): number =>
  Math.max(attemptTimeoutMs, HANDSHAKE_TIMEOUT_MS);

/**
 * The bytes a target sends on a fresh faulted-lane session up to the end of its opening
 * (`openFaulted`; for h2 its TLS handshake and session tickets too, counted on the TCP
 * socket). Sends no request. Throws what ended the opening.
 */
export async function openingBytes(
  origin: string,
  transport: TransportOptions,
  timeoutMs: number,
): Promise<number> {
  const opened = await openFaulted(origin, transport, true, timeoutMs, undefined);
  if (!isSession(opened)) throw Object.assign(new Error(opened.message), { code: opened.code });
  try {
    return (states.get(opened) as SessionState).raw.bytesRead;
  } finally {
    opened.destroy();
  }
}

/**
 * Opens the sessions of a burst, one per origin and TLS configuration; those of faulted
 * attempts with their opening done (`openFaulted`) before any stream, so the attempts' clocks
 * start after it, as single attempts' do. `releasePing`: the release sends the PING, so the
 * opening does not. Returns each key's session or what ended its opening.
 */
async function openBurstSessions(
  attempts: readonly AttemptRequest[],
  releasePing: boolean,
  stop: AbortSignal | undefined,
): Promise<Map<string, ClientHttp2Session | Failure>> {
  const first = new Map<string, AttemptRequest>();
  const timeouts = new Map<string, number>();
  for (const attempt of attempts) {
    const key = sessionKey(attempt);
    if (!first.has(key)) first.set(key, attempt);
    if (attempt.freshConnection)
      timeouts.set(key, Math.max(timeouts.get(key) ?? 0, attempt.timeoutMs));
  }
  const sessions = new Map<string, ClientHttp2Session | Failure>();
  await Promise.all(
    [...first].map(async ([key, attempt]) => {
      const transport = attempt.transport as TransportOptions;
      const timeoutMs = timeouts.get(key);
      sessions.set(
        key,
        timeoutMs === undefined
          ? openSession(attempt.url, transport)
          : await openFaulted(
              attempt.url,
              transport,
              !releasePing,
              openingTimeoutMs(timeoutMs),
              stop,
            ),
      );
    }),
  );
  return sessions;
}

/**
 * Single-packet release (James Kettle's "single-packet attack"), for HTTP/2: one session per
 * origin for the whole burst; every request's HEADERS and body go out except the last byte
 * (an empty body holds END_STREAM back); a PING round trip shows the target has read all of
 * it (capped at H2_SETTLE_CAP_MS; a fixed `releasePauseMs` replaces it); then every held
 * frame is handed to the session in the same tick, which node:http2 writes to the socket in
 * one write, so the target reads all final frames in one TCP read. Sessions are opened for
 * the burst and destroyed after it, on clean and faulted lanes alike; a faulted lane's session
 * does its opening first (`openBurstSessions`).
 *
 * Returns the results in the order of `attempts`, and when each final frame was released.
 */
export async function sendSinglePacketBurst(
  attempts: readonly AttemptRequest[],
  now: () => number,
  options: H2Options = {},
): Promise<{ results: AttemptResult[]; releasedAt: number[]; pauseMs: number }> {
  const pause = options.releasePauseMs ?? 'auto';
  const opening = await openBurstSessions(attempts, pause === 'auto', options.stop);
  const sessions = [...opening.values()].filter(isSession);
  try {
    const burstStarted = performance.now();
    const opened = attempts.map((attempt): OpenedStream => {
      const session = opening.get(sessionKey(attempt)) as ClientHttp2Session | Failure;
      if (isSession(session)) return openStream(session, attempt, true, options);
      const durationMs = roundMs(performance.now() - burstStarted);
      const result = Promise.resolve<AttemptResult>({ kind: 'error', ...session, durationMs });
      return { result, written: Promise.resolve(), release: () => undefined };
    });
    // Each wait also ends when the request does (refused, timed out, stopped): a lane that
    // swallows the handshake must not hold the burst past its timeout.
    const ready = new Map(sessions.map((session) => [session, connected(session)]));
    await Promise.all(
      opened.map((item, index) =>
        Promise.race([
          ready.get(opening.get(sessionKey(attempts[index] as AttemptRequest)) as never),
          item.result,
        ]),
      ),
    );
    await Promise.all(opened.map((item) => item.written));
    const pauseStarted = performance.now();
    if (pause === 'auto') {
      await Promise.all(sessions.map((session) => pinged(session, H2_SETTLE_CAP_MS)));
    } else {
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    const pauseMs = roundMs(performance.now() - pauseStarted);
    const releasedAt: number[] = [];
    for (const item of opened) {
      item.release();
      releasedAt.push(now());
    }
    const results = await Promise.all(opened.map((item) => item.result));
    return { results, releasedAt, pauseMs };
  } finally {
    for (const session of sessions) session.destroy();
  }
}
