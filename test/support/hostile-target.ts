import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A target that misbehaves on POST (GETs answer `{"count":0}`, so pre-flight and probes
 * work): `huge` streams an enormous body, `drip` sends one byte every `dripMs` (100 ms unless
 * told) and never finishes, `malformed` answers bytes that are not HTTP, `storm` answers 503 to
 * everything, `silent` reads the request and never answers, `endless` answers a chunked body
 * that never ends (a chunk every 20 ms), `answer-and-close` answers 200 with
 * `connection: close` and closes, `close-silently` closes the connection without a byte.
 */
export type HostileMode =
  | 'huge'
  | 'drip'
  | 'malformed'
  | 'storm'
  | 'silent'
  | 'endless'
  | 'answer-and-close'
  | 'close-silently';

export const HUGE_BODY_BYTES = 96 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 'x');

/** The SHA-256 (hex) of the body `huge` sends. */
export function hugeBodySha256(): string {
  const hash = createHash('sha256');
  for (let sent = 0; sent < HUGE_BODY_BYTES; sent += CHUNK.length) hash.update(CHUNK);
  return hash.digest('hex');
}

export interface HostileTarget {
  readonly url: string;
  close(): Promise<void>;
}

export function startHostileTarget(
  mode: HostileMode,
  options: { readonly dripMs?: number } = {},
): Promise<HostileTarget> {
  const timers = new Set<NodeJS.Timeout>();
  /** Writes `write()` every `everyMs` until the response is gone or the target closes. */
  const every = (response: ServerResponse, everyMs: number, write: () => void): void => {
    const timer = setInterval(() => {
      if (response.destroyed) {
        clearInterval(timer);
        timers.delete(timer);
      } else write();
    }, everyMs);
    timers.add(timer);
  };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method !== 'POST') {
        response.setHeader('content-type', 'application/json');
        response.end('{"count":0}');
        return;
      }
      switch (mode) {
        case 'huge': {
          response.writeHead(200, {
            'content-type': 'application/json',
            'content-length': HUGE_BODY_BYTES,
          });
          let sent = 0;
          const pump = (): void => {
            while (sent < HUGE_BODY_BYTES) {
              sent += CHUNK.length;
              if (!response.write(CHUNK)) {
                response.once('drain', pump);
                return;
              }
            }
            response.end();
          };
          pump();
          return;
        }
        case 'drip': {
          response.writeHead(200, {
            'content-type': 'application/json',
            'content-length': 1_000_000,
          });
          every(response, options.dripMs ?? 100, () => response.write('x'));
          return;
        }
        case 'endless':
          response.writeHead(200, { 'content-type': 'application/json' });
          every(response, 20, () => response.write('{"more":true}'));
          return;
        case 'silent':
          return;
        case 'answer-and-close':
          response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
          response.end('{"ok":true}');
          return;
        case 'close-silently':
          request.socket.destroy();
          return;
        case 'malformed':
          request.socket.end('HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\n{}');
          return;
        case 'storm':
          response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
          response.end('{"error":"overloaded"}');
          return;
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const timer of timers) clearInterval(timer);
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
