import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on a loopback address.
 *
 * The port is released before it is returned, so another process may take it in between;
 * callers that start servers on it retry on "address in use".
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port the kernel chose on ${host}`));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}
