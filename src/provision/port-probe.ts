import { connect } from 'node:net';

/**
 * Does something accept TCP connections on 127.0.0.1:`port`? One connection attempt, closed at
 * once; for readiness polls and for checking that a stopped server let go of its port.
 *
 * Must not: send any byte, or throw (a refused or failed connection is `false`).
 */
export function loopbackPortAccepts(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const settle = (accepted: boolean): void => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(timeoutMs, () => settle(false));
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
  });
}
