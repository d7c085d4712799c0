import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { openingBytes } from '../client/h2.js';
import { tlsConnectOptions } from '../client/tls.js';
import type { TlsOptions, TransportOptions } from '../client/send.js';

/**
 * How many bytes an https target sends on a new connection before any response: its TLS
 * handshake and the session tickets that follow it. Toxiproxy sees TLS as opaque bytes, so a
 * lane that must lose the *response* (lost-response, blackhole) lets exactly these through
 * and cuts what follows: a fault on the first byte would kill the handshake, and the request
 * would never reach the target.
 *
 * Measured on fresh connections without session resumption, as faulted lanes connect. The
 * result adds a margin below one TLS record (22 bytes at least), since a handshake's size
 * varies by a few bytes (ECDSA signatures): a cut inside the first response record still
 * loses the whole response, and the cut never comes before the target has the request.
 *
 * HTTP/2 targets (`measureH2Prelude`) also send frames before any response: their SETTINGS,
 * the ACK of ours, maybe WINDOW_UPDATE, and the answer to a PING. Faulted-lane sessions open
 * the same way every time (`openFaulted` in `client/h2.ts`), so those bytes are measured by
 * opening such a session, raw TCP bytes counted, TLS included for h2.
 *
 * Must not: send an HTTP request, or resume a TLS session.
 */

/** Bytes added to the largest handshake measured; less than the smallest TLS record. */
export const TLS_PRELUDE_MARGIN = 16;
/** Handshakes measured; the largest counts. */
const SAMPLES = 3;
/** The handshake is over once the target has sent nothing more for this long. */
const QUIET_MS = 150;

/**
 * Bytes added to the largest h2c opening measured: less than a frame header (9 bytes), so the
 * cut falls inside the first frame the target sends after the opening (its response).
 */
export const H2C_PRELUDE_MARGIN = 4;

export async function measureTlsPrelude(
  upstream: { readonly host: string; readonly port: number },
  tls: TlsOptions,
  timeoutMs = 5000,
): Promise<number> {
  return (await largestOf(() => preludeOnce(upstream, tls, timeoutMs))) + TLS_PRELUDE_MARGIN;
}

/**
 * The bytes an HTTP/2 target (`origin`, h2 or h2c) sends on a fresh faulted-lane session
 * before any response, plus the margin: over TLS (h2) the TLS one, less than the smallest
 * record that carries a frame (22 + 9 bytes).
 */
export async function measureH2Prelude(
  origin: string,
  transport: TransportOptions,
  timeoutMs = 5000,
): Promise<number> {
  const margin = transport.protocol === 'h2' ? TLS_PRELUDE_MARGIN : H2C_PRELUDE_MARGIN;
  return (await largestOf(() => openingBytes(origin, transport, timeoutMs))) + margin;
}

/** The largest of SAMPLES measures, taken one after the other. */
async function largestOf(measure: () => Promise<number>): Promise<number> {
  let largest = 0;
  for (let sample = 0; sample < SAMPLES; sample += 1) largest = Math.max(largest, await measure());
  return largest;
}

function preludeOnce(
  upstream: { readonly host: string; readonly port: number },
  tls: TlsOptions,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const raw: Socket = tcpConnect({ host: upstream.host, port: upstream.port });
    let quiet: NodeJS.Timeout | undefined;
    let secured = false;
    const finish = (error?: Error): void => {
      clearTimeout(deadline);
      clearTimeout(quiet);
      const bytes = raw.bytesRead;
      secure.destroy();
      raw.destroy();
      if (error === undefined) resolve(bytes);
      else reject(error);
    };
    const deadline = setTimeout(
      () =>
        finish(
          new Error(
            `no TLS handshake with ${upstream.host}:${upstream.port} within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    const rearm = (): void => {
      if (!secured) return;
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(), QUIET_MS);
    };
    raw.on('data', rearm);
    const secure = tlsConnect({ ...tlsConnectOptions(tls), socket: raw });
    secure.once('secureConnect', () => {
      secured = true;
      rearm();
    });
    // Session tickets are read (and counted) only while the TLS socket reads.
    secure.on('data', () => undefined);
    secure.on('session', rearm);
    secure.once('error', (error: Error) => finish(error));
  });
}
