import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { isIP } from 'node:net';
import {
  checkServerIdentity,
  connect as tlsConnect,
  type PeerCertificate,
  type TLSSocket,
} from 'node:tls';
import { Agent, Client, buildConnector } from 'undici';
import { startDeadline } from './deadline.js';
import { errorCodeOf, interrupted, type TlsOptions } from './send.js';

/**
 * TLS for attempts that connect to a fault lane's proxy on 127.0.0.1 while the bytes go on,
 * untouched, to the real target: the options of each connection (SNI and the certificate
 * check are for the real host name, not the proxy's address), and the agents that hold such
 * connections, one set per distinct TLS configuration.
 *
 * Must not: verify a certificate against the address it connected to (127.0.0.1), send an IP
 * address as SNI (RFC 6066 forbids it), or skip verification unless `insecure` says so.
 */

/** Options for `tls.connect` (and so for undici's connector and `https.request`). */
export interface TlsConnectOptions {
  readonly servername?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
  readonly checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * The connection options of `tls`. `forHost` false (probes, which go to the URL they name):
 * SNI and the name check follow the URL, only the trust settings apply.
 */
export function tlsConnectOptions(tls: TlsOptions, forHost = true): TlsConnectOptions {
  const name = tls.servername;
  return {
    ...(forHost && isIP(name) === 0 ? { servername: name } : {}),
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    rejectUnauthorized: !tls.insecure,
    checkServerIdentity: forHost
      ? (_host, cert) => checkServerIdentity(name, cert)
      : (host, cert) => checkServerIdentity(host, cert),
  };
}

/**
 * One configuration's agents: undici pools for clean-lane attempts and probes, an https agent
 * for bursts. Faulted lanes get a connection of their own each (`connectFirst`).
 */
export interface TlsAgents {
  /** Kept-alive connections (clean lanes). */
  readonly pooled: Agent;
  /** Probes: trust settings only, SNI from their URL. */
  readonly probe: Agent;
  /** Kept-alive connections for synchronised bursts on clean lanes. */
  readonly burst: HttpsAgent;
}

/** Agents per TLS configuration, made on first use and closed together. */
export class TlsAgentCache {
  private readonly byConfig = new Map<string, TlsAgents>();

  agentsFor(tls: TlsOptions): TlsAgents {
    const id = JSON.stringify([tls.servername, tls.ca, tls.cert, tls.key, tls.insecure]);
    let agents = this.byConfig.get(id);
    if (agents === undefined) {
      agents = createAgents(tls);
      this.byConfig.set(id, agents);
    }
    return agents;
  }

  async close(): Promise<void> {
    const all = [...this.byConfig.values()];
    this.byConfig.clear();
    for (const agents of all) agents.burst.destroy();
    await Promise.all(all.flatMap((agents) => [agents.pooled.close(), agents.probe.close()]));
  }
}

function createAgents(tls: TlsOptions): TlsAgents {
  const forHost = tlsConnectOptions(tls);
  const connect = namedConnector(buildConnector({ ...forHost }), forHost);
  const burstOptions: HttpsAgentOptions = {
    ...forHost,
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: 256,
  };
  return {
    pooled: new Agent({ connections: 128, keepAliveTimeout: 4000, connect }),
    probe: new Agent({ connect: { ...tlsConnectOptions(tls, false) } }),
    burst: new HttpsAgent(burstOptions),
  };
}

/**
 * A connector that sends the configured SNI: undici would take the request's servername from
 * its Host header, which `tls.servername` may override.
 */
function namedConnector(
  connector: buildConnector.connector,
  options: TlsConnectOptions,
): buildConnector.connector {
  return (connection, callback) => {
    connector({ ...connection, servername: options.servername ?? '' }, callback);
  };
}

/** The least time a faulted lane's TLS handshake gets (undici's connect timeout). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** A TLS connection made for one attempt, handshake done, as an undici dispatcher. */
export interface ConnectedTls {
  readonly dispatcher: Client;
  /** The TLS error the connection reported, if any (an alert after the handshake). */
  error(): Error | undefined;
}

/**
 * Opens a new TLS connection for one attempt on a faulted lane and completes the handshake
 * before the attempt's clock starts, as a plain TCP connection to the local proxy would be
 * open at once: a lane's toxics then act on the request and the response, as over HTTP, not
 * on the handshake (a slow lane would otherwise spend the client's timeout on it, and the
 * request would never leave). No session is resumed: the lanes let exactly one full
 * handshake's bytes through (`nemesis/tls-prelude.ts`).
 *
 * Resolves with the error (a code `outcomeOfError` judges) when the handshake fails: no byte
 * of the request was sent then. A handshake not done within `timeoutMs` (at least
 * HANDSHAKE_TIMEOUT_MS: a slow lane slows every handshake flight) is UND_ERR_CONNECT_TIMEOUT.
 */
export async function connectFirst(
  url: string,
  tls: TlsOptions,
  timeoutMs: number,
  stop: AbortSignal | undefined,
): Promise<ConnectedTls | { readonly code: string; readonly message: string }> {
  const target = new URL(url);
  const handshakeMs = Math.max(timeoutMs, HANDSHAKE_TIMEOUT_MS);
  const deadline = startDeadline(handshakeMs, stop);
  let socket: TLSSocket;
  // A TLS alert the target sends once the handshake is over (TLS 1.3: a client certificate it
  // refuses) may come before undici listens; kept, it names the real cause.
  let tlsError: Error | undefined;
  try {
    socket = await new Promise<TLSSocket>((resolve, reject) => {
      const opened = tlsConnect({
        ...tlsConnectOptions(tls),
        host: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port === '' ? 443 : Number(target.port),
      });
      const cut = (): void => {
        opened.destroy();
        reject(deadline.signal.reason as Error);
      };
      if (deadline.signal.aborted) cut();
      else deadline.signal.addEventListener('abort', cut, { once: true });
      opened.once('secureConnect', () => {
        deadline.signal.removeEventListener('abort', cut);
        resolve(opened);
      });
      opened.on('error', (error: Error) => {
        tlsError ??= error;
        reject(error);
      });
    });
  } catch (error) {
    if (stop?.aborted === true) return interrupted(stop);
    if (deadline.timedOut) {
      return {
        code: 'UND_ERR_CONNECT_TIMEOUT',
        message: `TLS handshake with ${target.host} not done within ${handshakeMs} ms`,
      };
    }
    return errorCodeOf(error);
  } finally {
    deadline.settle();
  }
  const connected = socket;
  const dispatcher = new Client(target.origin, {
    pipelining: 0,
    // Asynchronously: undici ignores a connector that answers within its own call.
    connect: (_options, callback) => {
      process.nextTick(callback, null, connected);
    },
  });
  return { dispatcher, error: () => tlsError };
}
