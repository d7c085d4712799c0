import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { IdemproofError } from '../errors.js';
import { scrubUrls } from '../history/redact.js';

/**
 * Where a run may send traffic. Loopback is always allowed; any other host must be named,
 * by `--allow-host` or the scenario's `target.allowHosts`, so that a typo or a copied
 * scenario cannot point chaos traffic at a production host.
 *
 * A name is loopback only if every address it resolves to is loopback: `api.localhost` is
 * not trusted for its spelling, since this machine's resolver may send it anywhere.
 *
 * Must not: send anything to a host it checks (a DNS lookup is all), allow a host by a
 * partial match other than an explicit `*.` wildcard, or print a URL's credentials.
 */

/** One host a run will talk to: what it is for, and the URL to name in messages. */
export interface HostUse {
  /** "target", "effect probe (SQL)", "Toxiproxy"… */
  readonly what: string;
  readonly hostname: string;
  readonly port: string;
  /** The URL or connection string it came from, credentials removed. */
  readonly shown: string;
}

/** Every address `hostname` resolves to (the system resolver, as connections would). */
export type HostLookup = (hostname: string) => Promise<readonly string[]>;

export const systemLookup: HostLookup = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

function bare(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** Whether an IP address literal is a loopback address (127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: string): boolean {
  const host = bare(address);
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Loopback by spelling alone: an address literal, `localhost` or `*.localhost`. Only for
 * places that send nothing (`validate`, `init`'s hint); a run resolves names instead.
 */
export function isLoopback(hostname: string): boolean {
  const host = bare(hostname);
  return host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host);
}

/** Whether `hostname` (and `port`) match one allowlist entry: host, host:port or *.domain. */
function matches(entry: string, hostname: string, port: string): boolean {
  const wanted = entry.trim().toLowerCase();
  const host = bare(hostname);
  const [entryHost = '', entryPort] = /^\[.*\](:\d+)?$/.test(wanted)
    ? [wanted.replace(/^\[(.*)\](:\d+)?$/, '$1'), /\]:(\d+)$/.exec(wanted)?.[1]]
    : wanted.split(':').length === 2
      ? (wanted.split(':') as [string, string])
      : [wanted, undefined];
  if (entryPort !== undefined && entryPort !== port) return false;
  if (entryHost.startsWith('*.')) return host.endsWith(entryHost.slice(1));
  return entryHost === host;
}

/** The host of an http(s) URL; a usage error naming `where` when it is not a URL. */
export function hostOfUrl(url: string, what: string, where: string): HostUse {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${where}: ${what} '${scrubUrls(url)}' is not a URL`,
    );
  }
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? '443' : '80') : parsed.port;
  return { what, hostname: bare(parsed.hostname), port, shown: scrubUrls(url) };
}

/**
 * The hosts a PostgreSQL connection string reaches, read the way node-postgres reads it: the
 * URL's host, a `?host=` (or `hostaddr=`) parameter, several comma-separated hosts, and with
 * none of them PGHOST, then localhost. A unix socket (a path) is local and yields nothing.
 */
export function hostsOfConnectionString(
  connectionString: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): HostUse[] {
  const shown = scrubUrls(connectionString);
  if (connectionString.startsWith('/')) return [];
  const url = parseConnectionString(connectionString);
  if (url === undefined)
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${what} '${shown}' is not a PostgreSQL connection string`,
    );
  if (url.protocol === 'socket:') return [];
  const port = url.searchParams.get('port') ?? (url.port === '' ? '5432' : url.port);
  const named = [
    url.searchParams.get('host') ??
      (url.hostname === DUMMY_HOST ? '' : decodeURIComponent(url.hostname)),
    url.searchParams.get('hostaddr') ?? '',
  ].filter((host) => host !== '');
  // As node-postgres: an empty PGHOST counts as unset.
  const hosts = named.length > 0 ? named : [env.PGHOST || 'localhost'];
  return hosts
    .flatMap((host) => host.split(','))
    .map((host) => host.trim())
    .filter((host) => host !== '' && !host.startsWith('/') && !/^%2f/i.test(host))
    .map((host) => ({ what, hostname: bare(host), port, shown }));
}

const DUMMY_HOST = '___dummy___';

/** As pg-connection-string parses: relative to postgres://base, `user@/db` as no host. */
function parseConnectionString(text: string): URL | undefined {
  try {
    return new URL(text, 'postgres://base');
  } catch {
    try {
      return new URL(text.replace('@/', `@${DUMMY_HOST}/`), 'postgres://base');
    } catch {
      return undefined;
    }
  }
}

/** The refusal for a host outside loopback that nobody allowed. */
function refusal(use: HostUse, where: string, why: string): IdemproofError {
  return new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `${where}: the ${use.what} ${use.shown} ${why}; idemproof sends chaos traffic only to hosts you name: pass --allow-host ${use.hostname} or list it under target.allowHosts`,
  );
}

/** Throws unless `use` is an allowed host or a loopback address by spelling (no lookup). */
function checkByName(use: HostUse, allowHosts: readonly string[], where: string): boolean {
  if (allowHosts.some((entry) => matches(entry, use.hostname, use.port))) return true;
  if (isIP(use.hostname) !== 0) {
    if (isLoopbackAddress(use.hostname)) return true;
    throw refusal(use, where, 'is outside loopback');
  }
  return false;
}

/**
 * Throws a usage error (exit 2) unless every host is allowed or loopback by spelling (names
 * such as `api.localhost` count as loopback here, unresolved). For `validate`, which sends
 * nothing; a run calls `assertHostsAllowed`, which resolves.
 */
export function assertHostsAllowedByName(
  uses: readonly HostUse[],
  allowHosts: readonly string[],
  where: string,
): void {
  for (const use of uses) {
    if (checkByName(use, allowHosts, where) || isLoopback(use.hostname)) continue;
    throw refusal(use, where, 'is outside loopback');
  }
}

/** `assertHostsAllowedByName` for one URL. */
export function assertHostAllowed(
  url: string,
  allowHosts: readonly string[],
  what: string,
  where: string,
): void {
  assertHostsAllowedByName([hostOfUrl(url, what, where)], allowHosts, where);
}

/**
 * Throws a usage error (exit 2) unless every host is allowed, a loopback address, or a name
 * whose every address is loopback. Runs before any traffic: the only packets it causes are
 * DNS queries. A name that does not resolve is refused too (it would fail later anyway).
 */
export async function assertHostsAllowed(
  uses: readonly HostUse[],
  allowHosts: readonly string[],
  where: string,
  resolve: HostLookup = systemLookup,
): Promise<void> {
  for (const use of uses) {
    if (checkByName(use, allowHosts, where)) continue;
    let addresses: readonly string[];
    try {
      addresses = await resolve(use.hostname);
    } catch {
      throw refusal(use, where, 'does not resolve, so it cannot be shown to be loopback');
    }
    const outside = addresses.filter((address) => !isLoopbackAddress(address));
    if (addresses.length === 0 || outside.length > 0) {
      throw refusal(
        use,
        where,
        `resolves to ${outside.length === 0 ? 'nothing' : outside.join(', ')}, outside loopback`,
      );
    }
  }
}
