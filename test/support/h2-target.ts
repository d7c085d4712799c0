import { spawn } from 'node:child_process';
import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createSecureServer,
  createServer as createH2cServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import {
  createConnection,
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
} from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * A keyed target over HTTP/2 (h2c, or h2 over TLS), HTTP/1.1 or both at once, for tests and
 * benchmarks: POST /things with an Idempotency-Key executes once per key (201) and replays the
 * same answer to later requests (with `idempotent-replayed: true`); GET /things?key=K reports
 * the effect count and when each request body completed (performance.now in this process).
 * `/rst` resets the stream (REFUSED_STREAM) after reading the body. `flawed` state makes it a
 * check-then-insert target; `headerCpuMs` spends CPU on each request's headers.
 *
 * Must not: listen beyond 127.0.0.1, or (as a child process) outlive its parent's stdin.
 */
export interface KeyedState {
  readonly effects: Map<string, number>;
  /** performance.now() when each request body ended, per key. */
  readonly arrivals: Map<string, number[]>;
  /** HTTP/2 sessions (or HTTP/1.1 connections) accepted. */
  connections: number;
  /** Check-then-insert with a 1 ms window and no lock: concurrent requests all execute. */
  readonly flawed: boolean;
  /** CPU spent on each request when its headers arrive (ms). */
  readonly headerCpuMs: number;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

export function keyedHandler(
  state: KeyedState,
): (request: AnyRequest, response: AnyResponse) => void {
  return (request, response) => {
    // CPU work when the headers arrive (request authentication, say), before the body.
    const until = performance.now() + state.headerCpuMs;
    while (performance.now() < until);
    request.resume();
    request.on('end', () => {
      const ended = performance.now();
      const url = new URL(request.url ?? '/', 'http://x');
      const key = String(request.headers['idempotency-key'] ?? url.searchParams.get('key') ?? '');
      if (request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            count: state.effects.get(key) ?? 0,
            arrivals: state.arrivals.get(key) ?? [],
            version: request.httpVersion,
          }),
        );
        return;
      }
      state.arrivals.set(key, [...(state.arrivals.get(key) ?? []), ended]);
      if (url.pathname === '/rst' && 'stream' in request) {
        request.stream.close(7);
        return;
      }
      const first = !state.effects.has(key);
      // The flawed target checks, then inserts 1 ms later: requests of one key that complete
      // within that window all execute.
      if (first && state.flawed) {
        setTimeout(() => state.effects.set(key, (state.effects.get(key) ?? 0) + 1), 1);
      } else if (first) {
        state.effects.set(key, 1);
      }
      // Answer on the next turn, as a target that goes to its database would: every request
      // completed by one read records its arrival before any answer is written.
      setTimeout(
        () => {
          response.writeHead(201, {
            'content-type': 'application/json',
            ...(first ? {} : { 'idempotent-replayed': 'true' }),
          });
          response.end(
            JSON.stringify({
              id: `thing_${key}`,
              version: request.httpVersion,
              authority: request.headers[':authority'] ?? request.headers.host,
            }),
          );
        },
        state.flawed && first ? 2 : 0,
      );
    });
  };
}

export interface H2Target {
  readonly port: number;
  readonly state: KeyedState;
  effects(key: string): number;
  arrivals(key: string): number[];
  stop(): Promise<void>;
}

export interface H2TargetOptions {
  /** h2c: cleartext HTTP/2; h2: TLS, ALPN h2 (needs `tls`); http1: HTTP/1.1 (https with `tls`). */
  readonly protocol: 'h2c' | 'h2' | 'http1';
  readonly tls?: {
    readonly key: string;
    readonly cert: string;
    readonly ca?: string;
    readonly requestCert?: boolean;
  };
  /** For h2: also answer HTTP/1.1 clients (ALPN http/1.1). */
  readonly allowHttp1?: boolean;
  readonly state?: KeyedState;
}

export const newKeyedState = (flawed = false, headerCpuMs = 0): KeyedState => ({
  effects: new Map(),
  arrivals: new Map(),
  connections: 0,
  flawed,
  headerCpuMs,
});

export async function startH2Target(options: H2TargetOptions): Promise<H2Target> {
  const state = options.state ?? newKeyedState();
  const handler = keyedHandler(state);
  let server: Server;
  if (options.protocol === 'h2') {
    const tls = options.tls;
    if (tls === undefined) throw new Error('an h2 target needs tls');
    server = createSecureServer(
      {
        key: tls.key,
        cert: tls.cert,
        ca: tls.ca,
        requestCert: tls.requestCert === true,
        rejectUnauthorized: tls.requestCert === true,
        allowHTTP1: options.allowHttp1 === true,
      },
      handler,
    );
    server.on('secureConnection', () => (state.connections += 1));
  } else if (options.protocol === 'h2c') {
    server = createH2cServer(handler);
    server.on('connection', () => (state.connections += 1));
  } else if (options.tls !== undefined) {
    // HTTPS that speaks only HTTP/1.1 (no ALPN at all).
    server = createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler);
    server.on('secureConnection', () => (state.connections += 1));
  } else {
    server = createHttp1Server(handler);
    server.on('connection', () => (state.connections += 1));
  }
  // Sessions and sockets, so stop() ends them without waiting for idle clients.
  const sockets = new Set<{ destroy(): void }>();
  server.on(
    'connection',
    (socket: { destroy(): void; once(event: 'close', listener: () => void): void }) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    },
  );
  return {
    ...(await listen(server, sockets)),
    state,
    effects: (key) => state.effects.get(key) ?? 0,
    arrivals: (key) => state.arrivals.get(key) ?? [],
  };
}

/** Listens on 127.0.0.1 (port 0); `stop` destroys `sockets` and closes the server. */
async function listen(
  server: Server,
  sockets: Set<{ destroy(): void }>,
): Promise<{ port: number; stop(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP relay on 127.0.0.1 in front of `upstreamPort` that records every chunk it reads from
 * the client (when, how many bytes): shows how many reads a burst's final frames took.
 */
export interface ChunkRelay {
  readonly port: number;
  readonly chunks: { readonly at: number; readonly bytes: number }[];
  stop(): Promise<void>;
}

export async function startChunkRelay(upstreamPort: number): Promise<ChunkRelay> {
  const chunks: { at: number; bytes: number }[] = [];
  const open = new Set<{ destroy(): void }>();
  const server = createTcpServer((client) => {
    client.setNoDelay(true);
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    upstream.setNoDelay(true);
    open.add(client);
    open.add(upstream);
    client.on('data', (chunk: Buffer) => {
      chunks.push({ at: performance.now(), bytes: chunk.length });
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return { ...(await listen(server, open)), chunks };
}

/** The target of `startH2TargetProcess`, reached over HTTP/1.1 and h2c with one key space. */
export interface H2TargetProcess {
  /** HTTP/1.1 port: also answers GET /things?key=K with effects and arrivals. */
  readonly http1: number;
  readonly h2c: number;
  /** Arrival times (ms, this child's clock) of `key`'s requests. */
  arrivals(key: string): Promise<number[]>;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/**
 * Runs an HTTP/1.1 and an h2c target sharing one state in a child process (tsx loader), so a
 * benchmark's client never shares an event loop with the target it measures; each request
 * costs `headerCpuMs` of CPU when its headers arrive. The child exits when its stdin closes.
 */
export async function startH2TargetProcess(headerCpuMs = 0): Promise<H2TargetProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', String(headerCpuMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(output.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`the h2 target exited (${code}): ${output}`)));
  });
  const ports = JSON.parse(line) as { http1: number; h2c: number };
  return {
    ...ports,
    async arrivals(key) {
      const response = await fetch(
        `http://127.0.0.1:${ports.http1}/things?key=${encodeURIComponent(key)}`,
      );
      return ((await response.json()) as { arrivals: number[] }).arrivals;
    },
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

if (process.argv[2] === '--serve' && process.argv[1] === SELF) {
  const state = newKeyedState(false, Number(process.argv[3] ?? 0));
  const http1 = await startH2Target({ protocol: 'http1', state });
  const h2c = await startH2Target({ protocol: 'h2c', state });
  process.stdout.write(`${JSON.stringify({ http1: http1.port, h2c: h2c.port })}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => {
    void Promise.all([http1.stop(), h2c.stop()]).then(() => process.exit(0));
  });
}
