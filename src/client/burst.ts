import {
  request as httpRequest,
  type Agent,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RecordedResponse } from '../history/events.js';
import { startDeadline } from './deadline.js';
import { isHttp2, sendSinglePacketBurst } from './h2.js';
import {
  attemptErrorOf,
  bodyBytesOf,
  readBody,
  type AttemptRequest,
  type AttemptResult,
} from './send.js';
import { tlsConnectOptions } from './tls.js';
import {
  answerSpreadSample,
  serviceSample,
  settlePause,
  sharedSettleMemory,
  type ReleasePause,
  type ReleaseTiming,
  type SettleMemory,
} from './settle.js';

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
  /** The settle pause waited before the release (ms), see `settle.ts`. */
  readonly pauseMs?: number;
  /** When each request was released and answered, in performance.now() ms (`settle.ts`). */
  readonly timings?: readonly ReleaseTiming[];
}

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
    /** The settle pause: fixed ms, or 'auto' (default) sized from the target, see `settle.ts`. */
    readonly releasePauseMs?: ReleasePause;
    /** Where 'auto' learns the target's service time (default: one memory per process). */
    readonly settleMemory?: SettleMemory;
  } = {},
): Promise<SyncedBurstResult> {
  // HTTP/2: all requests on one session, final frames released in one write (see `h2.ts`).
  if (isHttp2(attempts[0]?.transport)) return sendSinglePacketBurst(attempts, now, options);
  const { stop } = options;
  const prepared = await Promise.all(
    attempts.map((attempt) => prepare(attempt, options.agent, stop, options.bodyLimit)),
  );
  // Give the target time to accept every new connection and take in every request's headers
  // (and do its work on them), so the last bytes find it waiting on all of them: sized from
  // the burst and what was seen of the target before (`settle.ts`), unless set.
  // Only 'auto' bursts teach the memory: what a sample means depends on the pause it followed.
  const memory = options.settleMemory ?? sharedSettleMemory;
  const origin = new URL(attempts[0]?.url ?? 'http://unknown').host;
  const setting = options.releasePauseMs ?? 'auto';
  const plan = setting === 'auto' ? memory.plan(origin) : undefined;
  const pauseMs = settlePause(setting, {
    count: prepared.length,
    reused: prepared.every((item) => item.request.reusedSocket),
    serviceMs: plan?.serviceMs,
    share: plan?.share ?? 1,
  });
  // A plan is always ended, so a burst that fails here never holds a level's trial slot.
  let timings: readonly ReleaseTiming[] = [];
  try {
    const released = await release(prepared, now, pauseMs);
    timings = released.timings;
    return released;
  } finally {
    if (plan !== undefined)
      memory.observe(origin, serviceSample(timings), plan.level, answerSpreadSample(timings));
  }
}

/** Waits the pause, releases the last bytes and collects the answers. */
async function release(
  prepared: readonly Prepared[],
  now: () => number,
  pauseMs: number,
): Promise<SyncedBurstResult & { readonly timings: readonly ReleaseTiming[] }> {
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const releasedAt: number[] = [];
  const releasedLocal: number[] = [];
  // The held-back bytes go straight to the sockets, back to back (a ClientRequest.end per
  // request costs several times more); the requests are finished afterwards, which writes
  // nothing more: their Content-Length is already complete.
  for (const item of prepared) {
    const socket = item.request.socket;
    if (!item.request.destroyed && socket !== null && !socket.destroyed) socket.write(item.last);
    releasedAt.push(now());
    releasedLocal.push(performance.now());
  }
  for (const item of prepared) if (!item.request.destroyed) item.request.end();
  const results = await Promise.all(prepared.map((item) => item.result));
  const timings = results.map((result, index) => ({
    releasedAt: releasedLocal[index] ?? 0,
    answeredAt:
      result.kind === 'response' ? (prepared[index]?.started ?? 0) + result.durationMs : undefined,
  }));
  return { results, releasedAt, pauseMs, timings };
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
  const body = bodyBytesOf(attempt.body) ?? Buffer.alloc(0);
  const headers = attempt.headers.filter(
    ([name]) => !['content-length', 'connection'].includes(name.toLowerCase()),
  );
  const started = performance.now();
  // https: TLS to the lane's proxy, with SNI and the certificate check for the real host
  // (`tls.ts`); `agent` is then an https agent of the same TLS configuration.
  const secure = url.protocol === 'https:';
  const tls = attempt.transport?.tls;
  const request = (secure ? httpsRequest : httpRequest)({
    ...(secure && tls !== undefined ? tlsConnectOptions(tls) : {}),
    host: url.hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
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
      // A new TLS connection is ready once its handshake is done; a reused one already is.
      if (secure && !request.reusedSocket) socket.once('secureConnect', write);
      else if (socket.connecting) socket.once('connect', write);
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
