import {
  request as httpRequest,
  type Agent,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import type { RecordedResponse } from '../history/events.js';
import { startDeadline } from './deadline.js';
import { attemptErrorOf, readBody, type AttemptRequest, type AttemptResult } from './send.js';

/**
 * Last-byte synchronisation (the technique of Turbo Intruder's single-packet attack, for
 * HTTP/1.1): every request of a burst gets its own connection and is sent in full except the
 * last byte of its body; once all are waiting, the last bytes are written back to back, so the
 * target sees the requests complete within microseconds of each other, not milliseconds.
 *
 * Must not: put two requests of one burst on one connection, reuse connections through
 * faulted lanes, send a request whose body is empty this way (there is no last body byte
 * to hold back: the caller sends those plainly), let a request or its response body run past
 * its timeout, or add a listener per request to the stop signal (`deadline.ts` has one).
 */
export interface SyncedBurstResult {
  readonly results: readonly AttemptResult[];
  /** When each request's last byte was written, in the caller's clock (ms). */
  readonly releasedAt: readonly number[];
}

/** Pause between preparing a burst and releasing it. */
export const RELEASE_SETTLE_MS = 10;
/** The same pause when every request of the burst reuses a kept-alive connection. */
export const REUSED_SETTLE_MS = 2;

interface Prepared {
  readonly request: ClientRequest;
  readonly last: Buffer;
  readonly result: Promise<AttemptResult>;
  readonly started: number;
}

/** Sends `attempts` (each with a non-empty body) with their last bytes released together. */
export async function sendSyncedBurst(
  attempts: readonly AttemptRequest[],
  now: () => number,
  options: {
    readonly agent?: Agent;
    readonly stop?: AbortSignal;
    readonly bodyLimit?: number;
  } = {},
): Promise<SyncedBurstResult> {
  const { stop } = options;
  const prepared = await Promise.all(
    attempts.map((attempt) => prepare(attempt, options.agent, stop, options.bodyLimit)),
  );
  // Give the target a moment to accept every new connection and parse what it has so far, so
  // the last bytes find it waiting on all of them rather than still accepting some; on
  // connections kept alive from an earlier burst, a moment to read the new request suffices.
  const allReused = prepared.every((item) => item.request.reusedSocket);
  await new Promise((resolve) =>
    setTimeout(resolve, allReused ? REUSED_SETTLE_MS : RELEASE_SETTLE_MS),
  );
  const releasedAt: number[] = [];
  // The held-back bytes go straight to the sockets, back to back (a ClientRequest.end per
  // request costs several times more); the requests are finished afterwards, which writes
  // nothing more: their Content-Length is already complete.
  for (const item of prepared) {
    const socket = item.request.socket;
    if (!item.request.destroyed && socket !== null && !socket.destroyed) socket.write(item.last);
    releasedAt.push(now());
  }
  for (const item of prepared) if (!item.request.destroyed) item.request.end();
  const results = await Promise.all(prepared.map((item) => item.result));
  return { results, releasedAt };
}

/** Opens the connection and writes everything but the last body byte; resolves once written. */
/**
 * With `agent` (keep-alive), connections are reused from burst to burst: each request of a
 * burst still has a connection of its own, since they are all in flight together. Without it,
 * every request opens a connection and closes it afterwards (faulted lanes).
 */
function prepare(
  attempt: AttemptRequest,
  agent: Agent | undefined,
  stop: AbortSignal | undefined,
  bodyLimit: number | undefined,
): Promise<Prepared> {
  const url = new URL(attempt.url);
  const body = Buffer.from(attempt.body ?? '', 'utf8');
  const headers = attempt.headers.filter(
    ([name]) => name !== 'content-length' && name !== 'connection',
  );
  const started = performance.now();
  const request = httpRequest({
    host: url.hostname,
    port: url.port === '' ? 80 : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: attempt.method,
    headers: [
      ...headers.flatMap(([name, value]) => [name, value]),
      'content-length',
      String(body.length),
      ...(agent === undefined ? ['connection', 'close'] : []),
    ],
    setHost: false,
    agent: agent ?? false,
  });
  // One deadline for connecting, headers and body: on abort it destroys the request and any
  // response still arriving, so a dripping or never-ending body is cut at the timeout too.
  const deadline = startDeadline(attempt.timeoutMs, stop);
  let response: IncomingMessage | undefined;
  const cut = (): void => {
    const reason: unknown = deadline.signal.reason;
    const error = reason instanceof Error ? reason : new Error('stopped');
    request.destroy(error);
    response?.destroy(error);
  };
  if (deadline.signal.aborted) queueMicrotask(cut);
  else deadline.signal.addEventListener('abort', cut, { once: true });
  const result = new Promise<AttemptResult>((resolve) => {
    const fail = (error: unknown): void => {
      deadline.settle();
      const { code, message } = attemptErrorOf(error, deadline, stop);
      resolve({ kind: 'error', code, message, durationMs: elapsed(started) });
    };
    // `on`, not `once`: a request destroyed after its response may report a second error.
    request.on('error', fail);
    request.once('response', (answer) => {
      response = answer;
      readResponse(answer, bodyLimit).then((recorded) => {
        deadline.settle();
        resolve({ kind: 'response', response: recorded, durationMs: elapsed(started) });
      }, fail);
    });
  });
  return new Promise((resolve) => {
    const ready = (): void =>
      resolve({ request, last: body.subarray(body.length - 1), result, started });
    request.once('socket', (socket) => {
      socket.setNoDelay(true);
      const write = (): void => {
        request.flushHeaders();
        if (body.length > 1) request.write(body.subarray(0, body.length - 1), () => ready());
        else ready();
      };
      if (socket.connecting) socket.once('connect', write);
      else write();
    });
    // A connection that fails is ready too: its result carries the error.
    void result.then(() =>
      resolve({ request, last: body.subarray(body.length - 1), result, started }),
    );
  });
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

async function readResponse(
  response: IncomingMessage,
  bodyLimit: number | undefined,
): Promise<RecordedResponse> {
  const body = await readBody(response as AsyncIterable<Buffer>, bodyLimit);
  const headers: [string, string][] = [];
  for (let index = 0; index + 1 < response.rawHeaders.length; index += 2) {
    headers.push([
      (response.rawHeaders[index] ?? '').toLowerCase(),
      response.rawHeaders[index + 1] ?? '',
    ]);
  }
  return { status: response.statusCode ?? 0, headers, ...body };
}
