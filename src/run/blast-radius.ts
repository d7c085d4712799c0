import { isIP } from 'node:net';
import { IdemproofError } from '../errors.js';

/**
 * Where a run may send traffic. Loopback is always allowed; any other host must be named,
 * by `--allow-host` or the scenario's `target.allowHosts`, so that a typo or a copied
 * scenario cannot point chaos traffic at a production host.
 *
 * Must not: resolve names (a name is allowed or not as written), or allow a host by a
 * partial match other than an explicit `*.` wildcard.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Whether `hostname` (and `port`) match one allowlist entry: host, host:port or *.domain. */
function matches(entry: string, hostname: string, port: string): boolean {
  const wanted = entry.trim().toLowerCase();
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const [entryHost = '', entryPort] = /^\[.*\](:\d+)?$/.test(wanted)
    ? [wanted.replace(/^\[(.*)\](:\d+)?$/, '$1'), /\]:(\d+)$/.exec(wanted)?.[1]]
    : wanted.split(':').length === 2
      ? (wanted.split(':') as [string, string])
      : [wanted, undefined];
  if (entryPort !== undefined && entryPort !== port) return false;
  if (entryHost.startsWith('*.')) return host.endsWith(entryHost.slice(1));
  return entryHost === host;
}

/**
 * Throws a usage error (exit 2) unless `url` is on loopback or allowed. `what` says what the
 * URL is ("target", "effect probe") and `where` which file asked for it.
 */
export function assertHostAllowed(
  url: string,
  allowHosts: readonly string[],
  what: string,
  where: string,
): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', `${where}: ${what} '${url}' is not a URL`);
  }
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? '443' : '80') : parsed.port;
  if (isLoopback(parsed.hostname)) return;
  if (allowHosts.some((entry) => matches(entry, parsed.hostname, port))) return;
  throw new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `${where}: the ${what} ${parsed.host} is outside loopback; idemproof sends chaos traffic only to hosts you name: pass --allow-host ${parsed.hostname} or list it under target.allowHosts`,
  );
}
