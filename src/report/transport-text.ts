import type { TransportSummary } from '../run/result.js';

/**
 * Words for a scenario's transport, shared by the reporters: one line saying how attempts
 * reached the target, and the warning every report shows when certificate checks were off.
 *
 * Must not: print certificate or key material (the summary holds none).
 */

const PROTOCOL_NAMES: Record<TransportSummary['protocol'], string> = {
  http1: 'HTTP/1.1',
  h2: 'HTTP/2',
  h2c: 'HTTP/2 cleartext (h2c)',
};

/** e.g. "HTTP/1.1 over TLS: SNI localhost, custom CA, client certificate". */
export function transportLine(transport: TransportSummary): string {
  const protocol = PROTOCOL_NAMES[transport.protocol];
  const { tls } = transport;
  if (tls === null) return protocol;
  const parts = [
    `SNI ${tls.servername}`,
    tls.insecure ? 'certificate NOT verified' : `${tls.ca} CA`,
    ...(tls.clientCertificate ? ['client certificate'] : []),
  ];
  return `${protocol} over TLS: ${parts.join(', ')}`;
}

/** The warning for `target.tls.insecure`, or undefined when certificates were verified. */
export function insecureWarning(
  transport: TransportSummary | null | undefined,
): string | undefined {
  if (transport?.tls?.insecure !== true) return undefined;
  return `TLS certificate verification was OFF (target.tls.insecure) for ${transport.tls.servername}: any server could have answered; use target.tls.ca instead`;
}
