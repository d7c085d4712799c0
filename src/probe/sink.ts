import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP endpoint idemproof hosts for targets whose effect is an outbound call (a webhook, a
 * carrier booking). The target is told to call `{{sink}}/<key or marker>`; the sink counts the
 * calls per last path segment and answers 204.
 *
 * Must not: listen beyond loopback, or keep request bodies.
 */
export interface Sink {
  readonly url: string;
  count(token: string): number;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const calls = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://sink.invalid').pathname;
    const token = decodeURIComponent(
      path
        .split('/')
        .filter((part) => part !== '')
        .pop() ?? '',
    );
    calls.set(token, (calls.get(token) ?? 0) + 1);
    request.resume();
    request.on('end', () => {
      response.writeHead(204);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sink`,
    count: (token) => calls.get(token) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
