import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_SUITE } from '../../../src/cli/demo-command.js';
import type { Flaw } from '../../../src/demo/flaws.js';
import { startDemoTarget, type DemoTarget } from '../../../src/demo/server.js';
import type { HistoryEvent } from '../../../src/history/events.js';
import { ToxiproxyApi, type ProxyInfo } from '../../../src/nemesis/toxiproxy-api.js';
import { requestStop } from '../../../src/provision/cleanup.js';
import { findFreePort } from '../../../src/provision/free-port.js';
import { runSuite } from '../../../src/run/run.js';
import { runCli } from '../../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * Dependency lanes end to end: the demo target reaches its own PostgreSQL database through a
 * proxy made beforehand on the shared Toxiproxy (as docker compose or a platform team would),
 * idemproof adopts it, holds each fault kind in it, and leaves it as it found it.
 */

const api = (): ToxiproxyApi => new ToxiproxyApi(inject('toxiproxyUrl'));

async function removeToxic(proxy: string, toxic: string): Promise<void> {
  const response = await fetch(`${inject('toxiproxyUrl')}/proxies/${proxy}/toxics/${toxic}`, {
    method: 'DELETE',
  });
  await response.text();
}

interface Stack {
  readonly database: TestDatabase;
  readonly store: ProxyInfo;
  readonly target: DemoTarget;
  stop(): Promise<void>;
}

async function startStack(flaw: Flaw): Promise<Stack> {
  const database = await createTestDatabase(inject('databaseUrl'));
  const url = new URL(database.url);
  const store = await api().createProxy({
    name: `platform_store_${randomBytes(4).toString('hex')}`,
    upstream: `${url.hostname}:${url.port || '5432'}`,
  });
  url.hostname = '127.0.0.1';
  url.port = String(store.port);
  const target = await startDemoTarget({ databaseUrl: url.toString(), flaw });
  return {
    database,
    store,
    target,
    async stop() {
      await target.close();
      await api().removeProxy(store.name);
      await database.drop();
    },
  };
}

async function run(stack: Stack, folder: string, yaml: string) {
  const path = join(folder, `${randomBytes(4).toString('hex')}.yaml`);
  await writeFile(path, yaml);
  const saved = { ...process.env };
  process.env.IDEMPROOF_DEMO_STORE_LISTEN = stack.store.listen;
  process.env.IDEMPROOF_DEMO_STORE_UPSTREAM = stack.store.upstream;
  try {
    return await runSuite({
      paths: [path],
      target: stack.target.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, 'reports'),
      reporters: ['json'],
      seed: 7,
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
  } finally {
    process.env = saved;
  }
}

/** The built-in scenario with only the patterns of the given fault kinds on one dependency. */
async function builtIn(kinds?: readonly string[], dependency = 'store'): Promise<string> {
  const text = await readFile(join(DEMO_SUITE, 'dependency-chaos.yaml'), 'utf8');
  if (kinds === undefined) return text;
  const [head, patterns = ''] = text.split(/^patterns:\n/m);
  const kept = patterns
    .split(/(?=^ {2}- kind:)/m)
    .filter((block) => block.includes(`dependency: ${dependency}\n`))
    .filter((block) => kinds.some((kind) => block.includes(`fault: { kind: ${kind}`)));
  return `${head}patterns:\n${kept.join('')}`;
}

const dependencyEvents = (history: readonly HistoryEvent[]) =>
  history.flatMap((event) =>
    event.type === 'dependency-fault' || event.type === 'dependency-heal'
      ? [`${event.type} ${event.fault}`]
      : [],
  );

async function leftovers(prefix: string, store: ProxyInfo) {
  const proxies = await api().listProxies();
  const adopted = proxies.find((proxy) => proxy.name === store.name);
  return {
    ofRun: proxies.filter((proxy) => proxy.name.startsWith(prefix)).map((proxy) => proxy.name),
    adopted: adopted && { enabled: adopted.enabled, toxics: adopted.toxics.map((t) => t.name) },
  };
}

describe('dependency faults against the demo target', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-dependencies-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  describe('correct demo', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack('none');
    });
    afterAll(async () => {
      await stack.stop();
    });

    it('holds every fault kind of the built-in scenario, and leaves the adopted proxy as it was', async () => {
      const { result, history } = await run(stack, folder, await builtIn());
      const scenario = result.scenarios[0];
      expect(scenario?.error).toBeNull();
      expect(
        scenario?.checks.filter((check) => check.valid !== true).map((check) => check.checker),
      ).toEqual([]);
      // Judged: the store down, the store hanging, the payment provider down.
      expect(scenario?.checks.find((check) => check.checker === 'failClosed')?.checked).toBe(3);
      expect(dependencyEvents(history)).toEqual(
        ['down', 'reset', 'timeout', 'latency', 'bandwidth', 'cut', 'down'].flatMap((kind) => [
          `dependency-fault ${kind}`,
          `dependency-heal ${kind}`,
        ]),
      );
      // While the store was down the API refused with 503 and Retry-After; after it, 201.
      const answers = history.flatMap((event) =>
        event.type === 'invoke' && event.pattern === 'dependency-fault#1'
          ? [history.find((completion) => completion.type === 'ok' && completion.op === event.op)]
          : [],
      );
      expect(answers.map((ok) => ok?.type === 'ok' && ok.response.status)).toEqual([503, 201, 201]);
      expect(await leftovers(result.proxyPrefix, stack.store)).toEqual({
        ofRun: [],
        adopted: { enabled: true, toxics: [] },
      });
    });

    it('reaches the payment provider (the sink) through a lane on a port Toxiproxy picks', async () => {
      const { result, history } = await run(stack, folder, await builtIn(['down'], 'provider'));
      const scenario = result.scenarios[0];
      expect(scenario?.error).toBeNull();
      expect(scenario?.valid).toBe(true);
      const fault = history.find((event) => event.type === 'dependency-fault');
      // "… on provider (127.0.0.1:<picked> → <the sink's address>)"
      expect(fault?.type === 'dependency-fault' && fault.detail).toMatch(
        /^down \(connections closed and refused\) on provider \(127\.0\.0\.1:(\d+) → 127\.0\.0\.1:\d+\)$/,
      );
      const picked = /on provider \(127\.0\.0\.1:(\d+)/.exec(
        fault?.type === 'dependency-fault' ? fault.detail : '',
      )?.[1];
      expect(Number(picked)).toBeGreaterThan(0);
      // The demo was sent the lane's address, and its charges went through it.
      const sent = history.find((event) => event.type === 'invoke');
      expect(sent?.type === 'invoke' && sent.request.body).toContain(`127.0.0.1:${picked}/charge-`);
      const answers = history.flatMap((event) =>
        event.type === 'ok' && event.scenario === scenario?.name ? [event.response.status] : [],
      );
      // While the provider was down: 502 (nothing charged); after it, 201 and a replay.
      expect(answers).toEqual([502, 201, 201]);
      expect(await leftovers(result.proxyPrefix, stack.store)).toEqual({
        ofRun: [],
        adopted: { enabled: true, toxics: [] },
      });
    });

    it('creates a proxy for a dependency nobody listens for, and removes it', async () => {
      const listen = `127.0.0.1:${await findFreePort()}`;
      const yaml = (await builtIn(['latency'])).replace(
        /^dependencies:\n/m,
        `dependencies:\n  cache:\n    listen: ${listen}\n    upstream: 127.0.0.1:9\n`,
      );
      const withCache = yaml.replace(
        /^patterns:\n/m,
        'patterns:\n  - kind: dependency-fault\n    dependency: cache\n    fault: { kind: down }\n    expect: any\n',
      );
      const { result, history } = await run(stack, folder, withCache);
      expect(result.scenarios[0]?.error).toBeNull();
      expect(result.scenarios[0]?.valid).toBe(true);
      expect(dependencyEvents(history)).toEqual([
        'dependency-fault down',
        'dependency-heal down',
        'dependency-fault latency',
        'dependency-heal latency',
      ]);
      expect(await leftovers(result.proxyPrefix, stack.store)).toEqual({
        ofRun: [],
        adopted: { enabled: true, toxics: [] },
      });
    });

    it('leaves `idemproof clean` the toxics a killed run held on an adopted proxy, and only those', async () => {
      const run = randomBytes(4).toString('hex');
      const ours = `idemproof_${run}_s0_dep_store_latency`;
      const theirs = `platform_latency_${run}`;
      for (const name of [ours, theirs]) {
        await api().addToxic(stack.store.name, {
          name,
          type: 'latency',
          stream: 'downstream',
          attributes: { latency: 1, jitter: 0 },
        });
      }
      const cleaned = await runCli(['clean', run, '--toxiproxy', inject('toxiproxyUrl')]);
      await removeToxic(stack.store.name, theirs);
      expect(cleaned.stdout).toContain(
        `removed 1 toxics from adopted proxies on ${inject('toxiproxyUrl')}:\n  ${stack.store.name}/${ours}`,
      );
      expect(cleaned.code).toBe(0);
      expect((await leftovers(`idemproof_${run}`, stack.store)).adopted).toEqual({
        enabled: true,
        toxics: [],
      });
    });

    it('heals the fault when the run is stopped while it is held (Ctrl-C)', async () => {
      const running = run(stack, folder, await builtIn(['timeout']));
      // The demo waits 2 s for its hanging store: time to see the toxic and stop the run.
      let held = false;
      for (let waited = 0; waited < 20_000 && !held; waited += 20) {
        const proxies = await api().listProxies();
        held = (proxies.find((proxy) => proxy.name === stack.store.name)?.toxics.length ?? 0) > 0;
        if (!held) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(held).toBe(true);
      expect(requestStop({ kind: 'signal', signal: 'SIGINT' })).toBe(true);
      const { result, history } = await running;
      expect(dependencyEvents(history)).toEqual([
        'dependency-fault timeout',
        'dependency-heal timeout',
      ]);
      expect(result.valid).not.toBe(true);
      expect(await leftovers(result.proxyPrefix, stack.store)).toEqual({
        ofRun: [],
        adopted: { enabled: true, toxics: [] },
      });
    });

    it('refuses a listen address where a proxy relays somewhere else, naming scenario, dependency and address', async () => {
      const yaml = (await builtIn(['down'])).replace(
        '${IDEMPROOF_DEMO_STORE_UPSTREAM}',
        '127.0.0.1:9',
      );
      const { result } = await run(stack, folder, yaml);
      expect(result.scenarios[0]?.error).toMatchObject({ code: 'IDEMPROOF_ERR_SCENARIO' });
      expect(result.scenarios[0]?.error?.message).toMatch(
        new RegExp(
          `scenario 'demo dependency chaos': dependency 'store': .*already listens at ${stack.store.listen.replace(/\./g, '\\.')} but relays to`,
        ),
      );
      expect(await leftovers(result.proxyPrefix, stack.store)).toEqual({
        ofRun: [],
        adopted: { enabled: true, toxics: [] },
      });
    });
  });

  describe('fail-open demo', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack('fail-open');
    });
    afterAll(async () => {
      await stack.stop();
    });

    it('is caught by failClosed (201 while the store was down) and effectsPerKey (charged twice)', async () => {
      const { result } = await run(stack, folder, await builtIn(['down', 'timeout']));
      const scenario = result.scenarios[0];
      expect(scenario?.error).toBeNull();
      const failed = scenario?.checks.filter((check) => check.valid === false);
      // Also found, as a fail-open API earns them: a 201 made up from the request differs from
      // the replays, and a reservation the hanging store kept is never freed (keyNotStuck).
      expect(failed?.map((check) => check.checker)).toEqual(
        expect.arrayContaining(['effectsPerKey', 'failClosed']),
      );
      const failClosed = failed?.find((check) => check.checker === 'failClosed');
      expect(failClosed?.anomalies.map((anomaly) => anomaly.kind)).toEqual([
        'failed-open',
        'failed-open',
      ]);
      expect(failClosed?.anomalies[0]?.message).toMatch(
        /^the store was down; the API answered 201 to 'original \(store down\)' \(lane clean\): it failed open/,
      );
      expect(await leftovers(result.proxyPrefix, stack.store)).toEqual({
        ofRun: [],
        adopted: { enabled: true, toxics: [] },
      });
    });
  });
});
