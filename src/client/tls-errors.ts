/**
 * The TLS errors an attempt can end with, by what they mean: the client refused the target's
 * certificate, or the target refused the handshake with an alert. Either way no request byte
 * reached the target's HTTP layer. Also the advice a report gives for each.
 *
 * Must not: import anything (`send.ts` and `tls.ts` both read it).
 */

/** Node's codes for a certificate the client did not accept. */
export const CERTIFICATE_REFUSED: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A TLS alert from the target (e.g. a client certificate it requires). */
export function isTlsAlert(code: string): boolean {
  return /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/.test(code);
}

/** What to change in `target.tls` for a TLS error code, or '' for other codes. */
export function tlsAdvice(code: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return ' (the certificate does not name the target host: set target.tls.servername to a name it holds)';
  if (CERTIFICATE_REFUSED.has(code))
    return ' (the target certificate is not trusted: set target.tls.ca to the PEM of the CA that signed it, or insecure: true to skip the check)';
  if (/CERTIFICATE_REQUIRED/.test(code))
    return ' (the target requires a client certificate: set target.tls.cert and target.tls.key)';
  if (isTlsAlert(code))
    return ' (the target refused the TLS handshake: check target.tls.cert, key and the protocol it accepts)';
  return '';
}
