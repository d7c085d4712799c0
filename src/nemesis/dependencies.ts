import { withDeadline } from '../client/deadline.js';
import { IdemproofError, describeError } from '../errors.js';
import type { HistoryRecorder } from '../history/recorder.js';
import { registerCleanup } from '../provision/cleanup.js';
import { SINK_UPSTREAM, type Dependency, type DependencyFault } from '../scenario/schema-chaos.js';
import type { ProxyInfo, Toxic, ToxiproxyApi } from './toxiproxy-api.js';

/**
 * Dependency lanes: the Toxiproxy proxies a target reaches its database, cache or downstream
 * API through, and the faults held in them around chosen attempts.
 *
 * For each declared dependency a proxy listening at `listen` and relaying to `upstream` is
 * adopted when one is already there (made by docker compose, a platform team or the demo
 * stack), else created as `<prefix>_dep_<name>` and removed at the end. A fault is a toxic
 * named with the run's prefix (or, for `down`, the proxy disabled); healing removes exactly
 * that toxic or enables the proxy again.
 *
 * Must not: delete or reconfigure a proxy it adopted beyond its own toxics and the `down`
 * switch, touch any other proxy, or leave a toxic, a disabled adopted proxy or a created
 * proxy behind (heal on every path, removal registered before creation).
 */

/** How long one REST call to Toxiproxy may take (as in toxiproxy-api.ts). */
const CALL_TIMEOUT_MS = 30_000;

export interface HeldFault {
  readonly dependency: string;
  readonly fault: DependencyFault;
  readonly pattern: string;
}

export interface DependencySet {
  /** The names of the declared dependencies. */
  readonly names: readonly string[];
  /** The template variables of the dependencies: `dependency.NAME` → the listen host:port. */
  readonly variables: Readonly<Record<string, string>>;
  /** The proxy of a dependency and whether it was adopted. */
  proxyOf(name: string): { readonly proxy: string; readonly adopted: boolean };
  /** Puts a fault in place and records a `dependency-fault` event. */
  fault(name: string, fault: DependencyFault, pattern: string): Promise<void>;
  /**
   * Closes the dependency's connections and refuses new ones, keeping the fault held (data a
   * latency fault holds back is lost with them), until `heal`.
   */
  cut(name: string, pattern: string): Promise<void>;
  /** Removes the fault held on a dependency (if any) and records `dependency-heal`. */
  heal(name: string): Promise<void>;
  /** Heals every held fault; safe to call any time. */
  healAll(): Promise<void>;
  /** Heals, removes created proxies; safe to call twice. */
  remove(): Promise<void>;
}

/** The toxics a fault installs (none for `down`, which disables the proxy). */
export function dependencyToxics(prefix: string, name: string, fault: DependencyFault): Toxic[] {
  const base = `${prefix}_dep_${name}_${fault.kind}`;
  switch (fault.kind) {
    case 'latency':
      return [
        {
          name: base,
          type: 'latency',
          stream: fault.direction === 'requests' ? 'upstream' : 'downstream',
          attributes: { latency: fault.ms, jitter: 0 },
        },
      ];
    case 'reset':
      return (['upstream', 'downstream'] as const).map((stream) => ({
        name: `${base}_${stream}`,
        type: 'reset_peer',
        stream,
        attributes: { timeout: 0 },
      }));
    case 'timeout':
      return [{ name: base, type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } }];
    case 'bandwidth':
      return [
        { name: base, type: 'bandwidth', stream: 'downstream', attributes: { rate: fault.kbps } },
      ];
    case 'cut':
      return [
        {
          name: base,
          type: 'reset_peer',
          stream: 'downstream',
          attributes: { timeout: fault.afterMs },
        },
      ];
    case 'down':
      return [];
  }
}

/** A one-line description of a fault, e.g. "latency 1500 ms". */
export function describeDependencyFault(fault: DependencyFault): string {
  switch (fault.kind) {
    case 'latency':
      return fault.direction === 'requests'
        ? `latency ${fault.ms} ms on what the service sends`
        : `latency ${fault.ms} ms`;
    case 'reset':
      return 'connections reset';
    case 'timeout':
      return 'hangs (no data flows)';
    case 'down':
      return 'down (connections closed and refused)';
    case 'bandwidth':
      return `bandwidth ${fault.kbps} KB/s`;
    case 'cut':
      return `connections cut ${fault.afterMs} ms into the attempt`;
  }
}

/** The dependencies with `${NAME}` in listen and upstream expanded; unset names: exit 2. */
export function expandDependencyEnv(
  dependencies: Readonly<Record<string, Dependency>>,
  env: NodeJS.ProcessEnv,
  file: string,
): Record<string, Dependency> {
  const expand = (name: string, field: string, text: string): string =>
    text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, variable: string) => {
      const value = env[variable];
      if (value === undefined || value.trim() === '') {
        throw new IdemproofError(
          'IDEMPROOF_ERR_USAGE',
          `${file}: dependencies.${name}.${field}: environment variable ${variable} is not set`,
        );
      }
      return value.trim();
    });
  return Object.fromEntries(
    Object.entries(dependencies).map(([name, dependency]) => [
      name,
      {
        ...dependency,
        listen: expand(name, 'listen', dependency.listen),
        upstream: expand(name, 'upstream', dependency.upstream),
      },
    ]),
  );
}

/** "localhost:1" and "127.0.0.1:1" are one address; "[::1]" and "::1" too. */
function sameAddress(a: string, b: string): boolean {
  const norm = (value: string): string =>
    value
      .trim()
      .toLowerCase()
      .replace(/^localhost:/, '127.0.0.1:')
      .replace(/^\[(.*)\]:/, '$1:');
  return norm(a) === norm(b);
}

/**
 * Makes sure a proxy listens at each dependency's `listen` and relays to its `upstream`
 * (adopting or creating it), and returns the set that holds and heals faults.
 */
export async function prepareDependencies(options: {
  readonly api: ToxiproxyApi;
  /** The run's proxy prefix, e.g. idemproof_ab12cd_s0. */
  readonly prefix: string;
  readonly dependencies: Readonly<Record<string, Dependency>>;
  readonly recorder: HistoryRecorder;
  readonly scenario: string;
  /** The sink's host:port, for dependencies whose upstream is `sink`. */
  readonly sinkAddress?: string | undefined;
}): Promise<DependencySet> {
  const { api, prefix, recorder, scenario } = options;
  const proxies = new Map<string, { proxy: string; adopted: boolean; dependency: Dependency }>();
  const created: string[] = [];
  const held = new Map<string, HeldFault & { toxics: readonly Toxic[]; cut?: true }>();
  const rest = restOf(api);

  const heal = async (name: string): Promise<void> => {
    const fault = held.get(name);
    if (fault === undefined) return;
    held.delete(name);
    const entry = proxies.get(name);
    if (entry === undefined) return;
    const failures: unknown[] = [];
    for (const toxic of fault.toxics)
      await rest.removeToxic(entry.proxy, toxic.name).catch((error) => failures.push(error));
    if (fault.fault.kind === 'down' || fault.cut === true)
      await rest.setEnabled(entry.proxy, true).catch((error) => failures.push(error));
    recorder.append({
      type: 'dependency-heal',
      scenario,
      dependency: name,
      fault: fault.fault.kind,
      detail: `${describeDependencyFault(fault.fault)} on ${name} healed`,
      pattern: fault.pattern,
    });
    if (failures.length > 0) throw failures[0];
  };
  const healAll = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const name of [...held.keys()]) await heal(name).catch((error) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  };

  let removing: Promise<void> | undefined;
  const remove = (): Promise<void> =>
    (removing ??= (async () => {
      const failures: unknown[] = [];
      await healAll().catch((error: unknown) => failures.push(error));
      // Toxics of this run on adopted proxies a killed heal may have left (by prefix).
      for (const entry of proxies.values()) {
        if (!entry.adopted) continue;
        await rest
          .removeOwnToxics(entry.proxy, prefix)
          .catch((error: unknown) => failures.push(error));
      }
      for (const proxy of created)
        await api.removeProxy(proxy).catch((error: unknown) => failures.push(error));
      unregister();
      if (failures.length > 0) throw failures[0];
    })());
  const unregister = registerCleanup({
    name: `dependency lanes ${prefix}_dep_* on Toxiproxy ${api.url}`,
    run: remove,
    resource: { kind: 'proxies', toxiproxy: api.url, prefix },
  });

  try {
    const existing = Object.keys(options.dependencies).length > 0 ? await api.listProxies() : [];
    for (const [name, declared] of Object.entries(options.dependencies)) {
      const dependency = withSinkUpstream(declared, name, scenario, options.sinkAddress);
      // Port 0 asks Toxiproxy for a fresh port: there is nothing to adopt.
      const found = /:0$/.test(dependency.listen)
        ? undefined
        : existing.find((proxy) => sameAddress(proxy.listen, dependency.listen));
      if (found !== undefined) {
        adoptOrRefuse(found, name, dependency, scenario);
        proxies.set(name, { proxy: found.name, adopted: true, dependency });
        continue;
      }
      const proxyName = `${prefix}_dep_${name.replace(/-/g, '_')}`;
      created.push(proxyName);
      let listen: string;
      try {
        ({ listen } = await api.createProxy({
          name: proxyName,
          upstream: dependency.upstream,
          listen: dependency.listen,
        }));
      } catch (error) {
        throw new IdemproofError(
          'IDEMPROOF_ERR_SCENARIO',
          `scenario '${scenario}': dependency '${name}': no proxy can listen at ${dependency.listen} (${describeError(error)}); is something else using that address?`,
          { cause: error },
        );
      }
      proxies.set(name, {
        proxy: proxyName,
        adopted: false,
        dependency: { ...dependency, listen },
      });
    }
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }

  const entryOf = (name: string): { proxy: string; adopted: boolean; dependency: Dependency } => {
    const entry = proxies.get(name);
    if (entry === undefined)
      throw new Error(`dependency '${name}' is not declared in scenario '${scenario}'`);
    return entry;
  };

  return {
    names: [...proxies.keys()],
    variables: Object.fromEntries(
      [...proxies].map(([name, entry]) => [`dependency.${name}`, entry.dependency.listen]),
    ),
    proxyOf: (name) => {
      const { proxy, adopted } = entryOf(name);
      return { proxy, adopted };
    },
    async fault(name, fault, pattern) {
      const entry = entryOf(name);
      if (held.has(name)) await heal(name);
      const toxics = dependencyToxics(prefix, name.replace(/-/g, '_'), fault);
      // Held before it is in place: a failure half-way is still healed.
      held.set(name, { dependency: name, fault, pattern, toxics });
      if (fault.kind === 'down') await rest.setEnabled(entry.proxy, false);
      for (const toxic of toxics) await api.addToxic(entry.proxy, toxic);
      const { listen, upstream } = entry.dependency;
      recorder.append({
        type: 'dependency-fault',
        scenario,
        dependency: name,
        fault: fault.kind,
        detail: `${describeDependencyFault(fault)} on ${name} (${listen} → ${upstream})`,
        pattern,
      });
    },
    async cut(name, pattern) {
      const entry = entryOf(name);
      const fault = held.get(name);
      const cutFault: DependencyFault = { kind: 'down' };
      // A cut with nothing held heals like a `down` fault.
      if (fault === undefined)
        held.set(name, { dependency: name, fault: cutFault, pattern, toxics: [] });
      else held.set(name, { ...fault, cut: true });
      await rest.setEnabled(entry.proxy, false);
      recorder.append({
        type: 'dependency-fault',
        scenario,
        dependency: name,
        fault: 'cut',
        detail: `${name}'s connections closed (${entry.dependency.listen} → ${entry.dependency.upstream})${fault === undefined ? '' : `, ${describeDependencyFault(fault.fault)} still held`}`,
        pattern,
      });
    },
    heal,
    healAll,
    remove,
  };
}

/** A dependency whose upstream is `sink` relays to the run's sink. */
function withSinkUpstream(
  dependency: Dependency,
  name: string,
  scenario: string,
  sinkAddress: string | undefined,
): Dependency {
  if (dependency.upstream !== SINK_UPSTREAM) return dependency;
  if (sinkAddress === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `scenario '${scenario}': dependency '${name}' relays to idemproof's sink, which only 'idemproof run' starts (explore has none)`,
    );
  }
  return { ...dependency, upstream: sinkAddress };
}

function adoptOrRefuse(found: ProxyInfo, name: string, dependency: Dependency, scenario: string) {
  if (sameAddress(found.upstream, dependency.upstream)) return;
  throw new IdemproofError(
    'IDEMPROOF_ERR_SCENARIO',
    `scenario '${scenario}': dependency '${name}': Toxiproxy proxy '${found.name}' already listens at ${dependency.listen} but relays to ${found.upstream}, not ${dependency.upstream}; fix the scenario's upstream or free the address`,
  );
}

/** The few REST calls toxiproxy-api.ts lacks: enable/disable, remove one toxic, list toxics. */
function restOf(api: ToxiproxyApi) {
  const call = async (what: string, path: string, init: RequestInit = {}) => {
    let answer: { status: number; text: string };
    try {
      answer = await withDeadline(CALL_TIMEOUT_MS, async (signal) => {
        const response = await fetch(`${api.url}${path}`, { ...init, signal });
        return { status: response.status, text: await response.text() };
      });
    } catch (error) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_TOXIPROXY_API',
        `Toxiproxy at ${api.url}: ${what} failed: ${describeError(error)}`,
        { cause: error },
      );
    }
    return answer;
  };
  const fail = (what: string, answer: { status: number; text: string }): never => {
    throw new IdemproofError(
      'IDEMPROOF_ERR_TOXIPROXY_API',
      `Toxiproxy at ${api.url}: ${what} answered ${answer.status}: ${answer.text.trim()}`,
    );
  };
  const proxyPath = (proxy: string): string => `/proxies/${encodeURIComponent(proxy)}`;
  return {
    async setEnabled(proxy: string, enabled: boolean): Promise<void> {
      const what = `${enabled ? 'enable' : 'disable'} proxy ${proxy}`;
      const answer = await call(what, proxyPath(proxy), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enabled }),
      });
      if (answer.status >= 300 && !(enabled && answer.status === 404)) fail(what, answer);
    },
    async removeToxic(proxy: string, toxic: string): Promise<void> {
      const what = `remove toxic ${toxic} from ${proxy}`;
      const answer = await call(what, `${proxyPath(proxy)}/toxics/${encodeURIComponent(toxic)}`, {
        method: 'DELETE',
      });
      if (answer.status !== 204 && answer.status !== 404) fail(what, answer);
    },
    async removeOwnToxics(proxy: string, prefix: string): Promise<void> {
      const what = `list toxics of ${proxy}`;
      const answer = await call(what, `${proxyPath(proxy)}/toxics`);
      if (answer.status === 404) return;
      if (answer.status !== 200) fail(what, answer);
      const toxics = JSON.parse(answer.text) as { name: string }[];
      for (const toxic of toxics) {
        if (!toxic.name.startsWith(`${prefix}_`)) continue;
        await this.removeToxic(proxy, toxic.name);
      }
    },
  };
}

/**
 * Removes the toxics named with `prefix` from every proxy on a server (a run killed while a
 * fault was held on an adopted proxy). A `down` fault left on an adopted proxy cannot be told
 * apart from one its owner disabled, so it is not enabled here. For `idemproof clean`.
 */
export async function removeRunToxics(
  api: ToxiproxyApi,
  prefix: string,
  options: { readonly dryRun?: boolean } = {},
): Promise<string[]> {
  const rest = restOf(api);
  const removed: string[] = [];
  for (const proxy of await api.listProxies()) {
    // The run's own proxies go whole, toxics and all.
    if (proxy.name.startsWith(prefix)) continue;
    for (const toxic of proxy.toxics) {
      if (!toxic.name.startsWith(prefix)) continue;
      if (options.dryRun !== true) await rest.removeToxic(proxy.name, toxic.name);
      removed.push(`${proxy.name}/${toxic.name}`);
    }
  }
  return removed;
}
