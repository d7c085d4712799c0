import { Toxiproxy, ToxiproxyError } from 'toxiproxy-node-client';
import { withDeadline } from '../client/deadline.js';
import { IdemproofError, describeError } from '../errors.js';

/** How long one REST call to Toxiproxy may take, answer included (its own limit is 25 s). */
const CALL_TIMEOUT_MS = 30_000;

/**
 * The thin layer over toxiproxy-node-client that the rest of idemproof uses to talk to
 * Toxiproxy. It adds what the client lacks: typed reset_peer and limit_data toxics, the HTTP
 * status of a failed call, listing proxies with their toxics, and deleting by name.
 *
 * Must not: touch proxies it was not asked to touch (no `/reset` on a shared server).
 */

export type ToxicStream = 'upstream' | 'downstream';

export type ToxicSpec =
  | { type: 'latency'; attributes: { latency: number; jitter: number } }
  | { type: 'timeout'; attributes: { timeout: number } }
  | { type: 'reset_peer'; attributes: { timeout: number } }
  | { type: 'limit_data'; attributes: { bytes: number } }
  | { type: 'bandwidth'; attributes: { rate: number } }
  | { type: 'slow_close'; attributes: { delay: number } }
  | { type: 'slicer'; attributes: { average_size: number; size_variation: number; delay: number } };

export type Toxic = ToxicSpec & {
  readonly name: string;
  readonly stream: ToxicStream;
  /** Always 1 in idemproof: fate is chosen per attempt by routing, not by Toxiproxy's dice. */
  readonly toxicity?: number;
};

export interface ProxyInfo {
  readonly name: string;
  /** host:port the proxy listens on. */
  readonly listen: string;
  readonly port: number;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly { name: string; type: string; stream: string }[];
}

/** The HTTP status in a toxiproxy-node-client error ("Request failed with status code 409"). */
export function statusOfToxiproxyError(error: unknown): number | undefined {
  if (!(error instanceof ToxiproxyError)) return undefined;
  const match = /status code (\d{3})/.exec(error.message);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function portOfListen(listen: string): number {
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_TOXIPROXY_API',
      `Toxiproxy returned listen address '${listen}' without a port`,
    );
  }
  return port;
}

export class ToxiproxyApi {
  readonly url: string;
  private readonly client: Toxiproxy;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
    this.client = new Toxiproxy(this.url);
  }

  /** Creates a proxy; `listen` defaults to an ephemeral loopback port. */
  async createProxy(options: {
    name: string;
    upstream: string;
    listen?: string;
  }): Promise<ProxyInfo> {
    const proxy = await this.call(`create proxy ${options.name}`, () =>
      this.client.createProxy({
        name: options.name,
        upstream: options.upstream,
        listen: options.listen ?? '127.0.0.1:0',
        enabled: true,
      }),
    );
    return {
      name: proxy.name,
      listen: proxy.listen,
      port: portOfListen(proxy.listen),
      upstream: proxy.upstream,
      enabled: proxy.enabled,
      toxics: [],
    };
  }

  async addToxic(proxyName: string, toxic: Toxic): Promise<void> {
    await this.call(`add toxic ${toxic.name} to ${proxyName}`, async () => {
      const proxy = await this.client.get(proxyName);
      await proxy.addToxic({
        name: toxic.name,
        type: toxic.type,
        stream: toxic.stream,
        toxicity: toxic.toxicity ?? 1,
        attributes: toxic.attributes,
      });
    });
  }

  /** Deletes a proxy by name; a proxy that is already gone is not an error. */
  async removeProxy(name: string): Promise<void> {
    const response = await this.fetch(
      `remove proxy ${name}`,
      `/proxies/${encodeURIComponent(name)}`,
      {
        method: 'DELETE',
      },
    );
    if (response.status !== 204 && response.status !== 404) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_TOXIPROXY_API',
        `Toxiproxy at ${this.url}: remove proxy ${name} answered ${response.status}: ${response.text}`,
      );
    }
  }

  /** Every proxy on the server with its toxics (the client library drops the toxics). */
  async listProxies(): Promise<ProxyInfo[]> {
    const response = await this.fetch('list proxies', '/proxies');
    const body = JSON.parse(response.text) as Record<
      string,
      {
        name: string;
        listen: string;
        upstream: string;
        enabled: boolean;
        toxics?: ProxyInfo['toxics'];
      }
    >;
    return Object.values(body).map((proxy) => ({
      name: proxy.name,
      listen: proxy.listen,
      port: portOfListen(proxy.listen),
      upstream: proxy.upstream,
      enabled: proxy.enabled,
      toxics: (proxy.toxics ?? []).map(({ name, type, stream }) => ({ name, type, stream })),
    }));
  }

  /**
   * One call of the REST API, answer read in full under one 30 s deadline (see
   * `client/deadline.ts`: never `AbortSignal.timeout`, which a garbage collection can drop).
   */
  private async fetch(
    what: string,
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; text: string }> {
    try {
      return await withDeadline(CALL_TIMEOUT_MS, async (signal) => {
        const response = await fetch(`${this.url}${path}`, { ...init, signal });
        return { status: response.status, text: await response.text() };
      });
    } catch (error) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_TOXIPROXY_API',
        `Toxiproxy at ${this.url}: ${what} failed: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  private async call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      const status = statusOfToxiproxyError(error);
      const detail = status === 409 ? 'already exists (409)' : describeError(error);
      throw new IdemproofError(
        'IDEMPROOF_ERR_TOXIPROXY_API',
        `Toxiproxy at ${this.url}: ${what} failed: ${detail}`,
        { cause: error },
      );
    }
  }
}
