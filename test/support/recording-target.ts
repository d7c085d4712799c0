import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small keyed target for tests that look at what reached it: POST /things stores the first
 * answer per Idempotency-Key and replays it, GET /things?key=K counts effects for the probe.
 * Every request's arrival (performance.now in this process) is recorded. `answer` lets a
 * test shape the first answer (a careless target that echoes secrets, say).
 */
export interface RecordingTarget {
  readonly url: string;
  /** performance.now() of each request's arrival, in order. */
  readonly arrivals: number[];
  /** Authorization header of each POST. */
  readonly authorizations: string[];
  /** Every request as it arrived: method, URL, raw header names and values, body bytes. */
  readonly requests: RecordedArrival[];
  close(): Promise<void>;
}

export interface RecordedArrival {
  readonly method: string;
  readonly url: string;
  /** Names as written on the wire, values as Latin-1 strings of their bytes. */
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

export interface FirstAnswer {
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function startRecordingTarget(
  answer: (request: { headers: IncomingHttpHeaders; body: string; n: number }) => FirstAnswer = ({
    n,
  }) => ({ headers: {}, body: JSON.stringify({ id: `thing_${n}` }) }),
): Promise<RecordingTarget> {
  const stored = new Map<string, FirstAnswer>();
  const arrivals: number[] = [];
  const authorizations: string[] = [];
  const requests: RecordedArrival[] = [];
  const server: Server = createServer((request, response) => {
    arrivals.push(performance.now());
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        rawHeaders: request.rawHeaders,
        body: Buffer.concat(chunks),
      });
      const url = new URL(request.url ?? '/', 'http://x');
      if (request.method === 'GET' && url.pathname === '/things') {
        const key = url.searchParams.get('key') ?? '';
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ count: stored.has(key) ? 1 : 0 }));
        return;
      }
      if (request.method !== 'POST') {
        response.end('ok');
        return;
      }
      authorizations.push(String(request.headers.authorization));
      const key = String(request.headers['idempotency-key'] ?? '');
      const first =
        stored.get(key) ??
        answer({
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          n: stored.size + 1,
        });
      if (key !== '') stored.set(key, first);
      response.writeHead(201, { 'content-type': 'application/json', ...first.headers });
      response.end(first.body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        arrivals,
        authorizations,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
