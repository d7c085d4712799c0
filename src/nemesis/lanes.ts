import type { HistoryRecorder } from '../history/recorder.js';
import { registerCleanup } from '../provision/cleanup.js';
import type { LaneName } from '../scenario/schema.js';
import type { Toxic, ToxiproxyApi } from './toxiproxy-api.js';

/**
 * Fault lanes: several proxies to the same upstream, each with fixed toxics installed before
 * any traffic, at toxicity 1. A pattern picks the lane per attempt, so the fate of an attempt
 * is chosen by the seeded plan, never by Toxiproxy's dice (which are per connection).
 *
 * Must not: let a blackholed attempt see any response byte (over TLS it sees the handshake
 * only) or a close before its own timeout, or leave a proxy (and the connections it holds) on
 * the Toxiproxy server after `remove()`.
 */
export interface LaneDefinition {
  readonly name: LaneName;
  readonly toxics: readonly Toxic[];
  /** Does a request sent through this lane reach the target? 'never' makes errors `fail`. */
  readonly delivers: 'always' | 'never';
  /** Faulted lanes use one request per connection, so a fault never leaks into the next one. */
  readonly freshConnection: boolean;
}

/**
 * How long the blackhole lane holds back the target's close: longer than the longest attempt
 * timeout a scenario accepts (1 h). Toxiproxy keeps each held connection open until then or
 * until the lane's proxy is removed (at scenario end), which closes them all at once.
 */
export const BLACKHOLE_HOLD_CLOSE_MS = 3_600_000 + 60_000;

export interface LaneOptions {
  readonly slowMs: number;
  /**
   * Targets that speak before they answer (https, HTTP/2): the bytes a new connection
   * receives before any response — the TLS handshake and session tickets, HTTP/2's SETTINGS,
   * their ACK and a PING (`tls-prelude.ts`). Lanes that lose the response let them through
   * and cut what follows; a cut at the first byte would lose the request instead.
   */
  readonly preludeBytes?: number | undefined;
}

export function laneDefinition(name: LaneName, options: LaneOptions): LaneDefinition {
  const lane = (toxics: Toxic[], delivers: 'always' | 'never' = 'always'): LaneDefinition => ({
    name,
    toxics,
    delivers,
    freshConnection: toxics.length > 0,
  });
  const prelude = options.preludeBytes;
  switch (name) {
    case 'clean':
      return lane([]);
    case 'lost-response':
      if (prelude !== undefined) return lane([keepHandshake('lost_response', prelude)]);
      return lane([
        {
          name: 'lost_response',
          type: 'reset_peer',
          stream: 'downstream',
          attributes: { timeout: 0 },
        },
      ]);
    case 'lost-request':
      return lane(
        [
          {
            name: 'lost_request',
            type: 'reset_peer',
            stream: 'upstream',
            attributes: { timeout: 0 },
          },
        ],
        'never',
      );
    case 'blackhole':
      // `timeout` 0 drops every response byte, but closes the client side as soon as the
      // target closes (a faulted lane sends `connection: close`): the FIN would pass through
      // and end the attempt early with a socket error. The `slow_close` after it (toxics run
      // in the order they are added) holds that FIN back longer than any attempt timeout, so
      // the attempt ends at the client's own give-up time, on any target.
      return lane([
        prelude === undefined
          ? { name: 'blackhole', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } }
          : keepHandshake('blackhole', prelude),
        {
          name: 'blackhole_hold_close',
          type: 'slow_close',
          stream: 'downstream',
          attributes: { delay: BLACKHOLE_HOLD_CLOSE_MS },
        },
      ]);
    case 'slow-request':
      return lane([
        {
          name: 'slow_request',
          type: 'latency',
          stream: 'upstream',
          attributes: { latency: options.slowMs, jitter: 0 },
        },
      ]);
    case 'slow-response':
      return lane([
        {
          name: 'slow_response',
          type: 'latency',
          stream: 'downstream',
          attributes: { latency: options.slowMs, jitter: 0 },
        },
      ]);
  }
}

/** Lets a TLS handshake through, then closes: the response that follows is lost. */
function keepHandshake(name: string, bytes: number): Toxic {
  return { name, type: 'limit_data', stream: 'downstream', attributes: { bytes } };
}

export function describeToxics(toxics: readonly Toxic[]): string {
  if (toxics.length === 0) return 'none';
  return toxics
    .map(
      (toxic) =>
        `${toxic.stream} ${toxic.type} ${Object.entries(toxic.attributes)
          .map(([name, value]) => `${name}=${value}`)
          .join(' ')}`,
    )
    .join('; ');
}

export interface LaneSet {
  /** host:port of the lane's proxy. */
  address(lane: LaneName): string;
  definition(lane: LaneName): LaneDefinition;
  readonly definitions: readonly LaneDefinition[];
  /** Removes every proxy of the set; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Creates one proxy per lane (named `<prefix>_<lane>`) with its toxics, records a `fault`
 * event for each faulted lane, and registers their removal for signals and errors.
 */
export async function createLanes(options: {
  readonly api: ToxiproxyApi;
  readonly prefix: string;
  /** host:port of the target. */
  readonly upstream: string;
  readonly lanes: readonly LaneName[];
  readonly slowMs: number;
  /** https and HTTP/2 targets: see `LaneOptions.preludeBytes`. */
  readonly preludeBytes?: number | undefined;
  readonly recorder: HistoryRecorder;
  readonly scenario: string;
}): Promise<LaneSet> {
  const { api, recorder, scenario } = options;
  const created = new Map<
    LaneName,
    { definition: LaneDefinition; address: string; proxy: string }
  >();
  let removing: Promise<void> | undefined;
  const remove = (): Promise<void> =>
    (removing ??= (async () => {
      // Registered until every proxy is gone: an exit half-way names the lanes as left behind.
      const failures: unknown[] = [];
      for (const { definition, proxy } of created.values()) {
        await api.removeProxy(proxy).catch((error: unknown) => failures.push(error));
        if (definition.toxics.length > 0) {
          recorder.append({
            type: 'heal',
            scenario,
            lane: definition.name,
            toxics: describeToxics(definition.toxics),
          });
        }
      }
      unregister();
      if (failures.length > 0) throw failures[0];
    })());
  const unregister = registerCleanup({
    name: `fault lanes ${options.prefix}_* on Toxiproxy ${api.url}`,
    run: remove,
    resource: { kind: 'proxies', toxiproxy: api.url, prefix: options.prefix },
  });

  try {
    for (const name of new Set(options.lanes)) {
      const definition = laneDefinition(name, options);
      const proxyName = `${options.prefix}_${name.replace(/-/g, '_')}`;
      const proxy = await api.createProxy({ name: proxyName, upstream: options.upstream });
      created.set(name, { definition, address: `127.0.0.1:${proxy.port}`, proxy: proxyName });
      for (const toxic of definition.toxics) await api.addToxic(proxyName, toxic);
      if (definition.toxics.length > 0) {
        recorder.append({
          type: 'fault',
          scenario,
          lane: name,
          toxics: describeToxics(definition.toxics),
        });
      }
    }
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }

  const lookup = (lane: LaneName): { definition: LaneDefinition; address: string } => {
    const found = created.get(lane);
    if (found === undefined) throw new Error(`lane ${lane} was not created for this scenario`);
    return found;
  };
  return {
    address: (lane) => lookup(lane).address,
    definition: (lane) => lookup(lane).definition,
    definitions: [...created.values()].map(({ definition }) => definition),
    remove,
  };
}
