import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { connect as connectAmqp } from 'amqplib';
import { IdemproofError, describeError } from '../errors.js';
import { spawnManaged, waitUntilReady, type ManagedProcess } from './child-process.js';
import { registerCleanup } from './cleanup.js';
import { startManagedContainer } from './container.js';
import { findFreePort } from './free-port.js';
import { loopbackPortAccepts } from './port-probe.js';
import { findRabbitmqServer } from './rabbitmq-install.js';
import { chooseRabbitmq, redactAmqpUrl } from './rabbitmq-locate.js';
import { findOnPath, isExecutable } from './tools-dir.js';
import { probeDockerEngine } from './toxiproxy-locate.js';

const run = promisify(execFile);

/** A RabbitMQ broker to use, and how to let go of it. */
export interface RabbitServer {
  /** amqp://guest:guest@127.0.0.1:PORT for a node idemproof started. */
  readonly url: string;
  /** The management UI and HTTP API, when the broker has it (the container does). */
  readonly managementUrl?: string;
  /** true when idemproof started it (a private node or a container). */
  readonly embedded: boolean;
  /** One line for people; never contains a password. */
  readonly description: string;
  /** Stops and removes what idemproof started; for an existing broker it does nothing. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 5000;
const CTL_STOP_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 3;
/** How the node says one of its ports was taken between findFreePort and its bind. */
const PORT_TAKEN = /eaddrinuse|address already in use|dist_port_already_used/i;

/**
 * Uses the broker in `url` (or IDEMPROOF_RABBITMQ_URL, or AMQP_URL) when given; otherwise
 * starts a private RabbitMQ node from the rabbitmq-server scripts on free loopback ports, in a
 * temporary folder that `stop()` removes; otherwise a container when Docker answers.
 *
 * Must not: start anything when a URL is given, touch the system's default RabbitMQ node,
 * or leave a process or the temporary folder behind.
 */
export async function startRabbitmq(
  options: { url?: string | undefined; env?: NodeJS.ProcessEnv } = {},
): Promise<RabbitServer> {
  const env = options.env ?? process.env;
  const choice = await chooseRabbitmq({
    optionUrl: options.url,
    env,
    serverScript: async () =>
      (await findRabbitmqServer(env)) ?? {
        missing: 'no rabbitmq-server in /usr/lib/rabbitmq/bin, on PATH or in /usr/sbin',
      },
    dockerEngine: () => probeDockerEngine(),
  });
  switch (choice.way) {
    case 'url':
      return useExistingBroker(choice.url, choice.origin);
    case 'private-node':
      return startPrivateNode(choice.server, env);
    case 'container':
      return startContainer(choice.image);
  }
}

/** Opens an AMQP connection and closes it again; throws when the broker does not answer. */
async function canConnect(url: string, timeoutMs: number): Promise<void> {
  const connection = await connectAmqp(url, { timeout: timeoutMs });
  connection.on('error', () => undefined);
  await connection.close().catch(() => undefined);
}

async function useExistingBroker(url: string, origin: string): Promise<RabbitServer> {
  try {
    await canConnect(url, CONNECT_TIMEOUT_MS);
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `the RabbitMQ broker at ${redactAmqpUrl(url)} (from ${origin}) does not accept an AMQP ` +
        `connection: ${describeError(error)}. Check that it runs and that the URL's user, ` +
        `password and virtual host are right, or unset ${origin} to let idemproof start one.`,
      { cause: error },
    );
  }
  return {
    url,
    embedded: false,
    description: `existing RabbitMQ at ${redactAmqpUrl(url)}`,
    stop: () => Promise.resolve(),
  };
}

async function startContainer(image: string): Promise<RabbitServer> {
  const { container, stop } = await startManagedContainer(
    image,
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    (generic, Wait) =>
      generic
        .withExposedPorts(5672, 15672)
        .withWaitStrategy(Wait.forLogMessage(/Server startup complete/)),
  );
  const url = `amqp://guest:guest@127.0.0.1:${container.getMappedPort(5672)}`;
  return {
    url,
    managementUrl: `http://127.0.0.1:${container.getMappedPort(15672)}`,
    embedded: true,
    description: `${image} container ${container.getId().slice(0, 12)} at ${redactAmqpUrl(url)}`,
    stop,
  };
}

/** Three distinct free loopback ports: AMQP, Erlang distribution, epmd. */
async function freePorts(): Promise<{ amqp: number; dist: number; epmd: number }> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < 3 && tries < 20; tries += 1) ports.add(await findFreePort());
  const [amqp, dist, epmd] = [...ports];
  if (amqp === undefined || dist === undefined || epmd === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      'could not find three free ports on 127.0.0.1 for a RabbitMQ node',
    );
  }
  return { amqp, dist, epmd };
}

/** The node's own folder: data, logs, configuration, and HOME with its Erlang cookie. */
async function prepareNodeFolder(folder: string): Promise<void> {
  await Promise.all(['mnesia', 'log', 'home'].map((name) => mkdir(join(folder, name))));
  await writeFile(join(folder, 'rabbitmq.conf'), 'loopback_users.guest = true\n');
  await writeFile(join(folder, 'enabled_plugins'), '[].\n');
  await writeFile(join(folder, 'rabbitmq-env.conf'), '');
  const cookie = randomBytes(20).toString('hex').toUpperCase();
  await writeFile(join(folder, 'home', '.erlang.cookie'), cookie, { mode: 0o400 });
}

/**
 * Everything that makes the node private: its name, ports, folders and cookie. The node
 * ignores /etc/rabbitmq (RABBITMQ_CONF_ENV_FILE and RABBITMQ_CONFIG_FILE point into the folder)
 * and any RABBITMQ_* or ERL_* setting of the caller's environment.
 */
export function privateNodeEnv(
  env: NodeJS.ProcessEnv,
  folder: string,
  node: string,
  ports: { amqp: number; dist: number; epmd: number },
): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(env).filter(([name]) => !/^(RABBITMQ_|ERL_)/.test(name)),
  );
  return {
    ...inherited,
    HOME: join(folder, 'home'),
    LC_ALL: 'C.UTF-8',
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.dist),
    ERL_EPMD_PORT: String(ports.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: join(folder, 'mnesia'),
    RABBITMQ_LOG_BASE: join(folder, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_CONFIG_FILE: join(folder, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(folder, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(folder, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(folder, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(folder, 'rabbitmq.pid'),
    // A VM that dies (a port taken, say) writes its dump here, not in the caller's folder.
    ERL_CRASH_DUMP: join(folder, 'erl_crash.dump'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

async function findEpmd(env: NodeJS.ProcessEnv): Promise<string> {
  const epmd = (await findOnPath('epmd', env)) ?? '/usr/lib/erlang/bin/epmd';
  if (await isExecutable(epmd)) return epmd;
  throw new IdemproofError(
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    `no epmd (Erlang's port mapper) on PATH or at /usr/lib/erlang/bin/epmd; the rabbitmq-server ` +
      `package depends on erlang-base, which has it: reinstall rabbitmq-server.`,
  );
}

/**
 * The node runs in its own process group (`setsid`), so one SIGKILL reaches the shell script,
 * the Erlang VM and its helpers. The command stays /bin/sh for the run registry's identity check.
 */
async function spawnNode(
  server: string,
  nodeEnv: NodeJS.ProcessEnv,
): Promise<{ child: ManagedProcess; ownGroup: boolean }> {
  const setsid = await findOnPath('setsid', nodeEnv);
  const args = setsid === undefined ? [server] : ['-c', 'exec "$0" /bin/sh "$1"', setsid, server];
  const child = spawnManaged('rabbitmq-server', '/bin/sh', args, {
    env: nodeEnv,
    cwd: nodeEnv.HOME,
    stopSignal: 'SIGTERM',
  });
  return { child, ownGroup: setsid !== undefined };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

async function startPrivateNode(server: string, env: NodeJS.ProcessEnv): Promise<RabbitServer> {
  const epmdPath = await findEpmd(env);
  let lastOutput = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    const folder = await mkdtemp(join(tmpdir(), 'idemproof-rabbitmq-'));
    const unregisterFolder = registerCleanup({
      name: `RabbitMQ folder ${folder}`,
      run: () => rm(folder, { recursive: true, force: true }),
      onExit: () => rmSync(folder, { recursive: true, force: true }),
      resource: { kind: 'folder', path: folder },
    });
    const processes: { child: ManagedProcess; ownGroup: boolean }[] = [];
    let releasing: Promise<void> | undefined;
    const release = (): Promise<void> => {
      releasing ??= (async () => {
        for (const { child, ownGroup } of processes.reverse()) {
          await child.stop('SIGTERM', STOP_GRACE_MS);
          if (ownGroup) killGroup(child.pid);
        }
        unregisterFolder();
        await rm(folder, { recursive: true, force: true });
      })();
      return releasing;
    };
    try {
      await prepareNodeFolder(folder);
      const ports = await freePorts();
      const node = `idemproof-${randomBytes(4).toString('hex')}@localhost`;
      const nodeEnv = privateNodeEnv(env, folder, node, ports);

      const epmd = spawnManaged(
        'epmd',
        epmdPath,
        ['-port', String(ports.epmd), '-address', '127.0.0.1'],
        { env: nodeEnv },
      );
      processes.push({ child: epmd, ownGroup: false });
      const epmdState = await waitUntilReady(epmd, () => loopbackPortAccepts(ports.epmd), 5000);
      if (epmdState !== 'ready') {
        lastOutput = `epmd on port ${ports.epmd}: ${epmdState}\n${epmd.output()}`;
        await release();
        continue;
      }

      const started = Date.now();
      const { child: nodeProcess, ownGroup } = await spawnNode(server, nodeEnv);
      processes.push({ child: nodeProcess, ownGroup });
      const url = `amqp://guest:guest@127.0.0.1:${ports.amqp}`;
      const state = await waitUntilReady(
        nodeProcess,
        async () => {
          await canConnect(url, 2000);
          return true;
        },
        START_TIMEOUT_MS,
        250,
      );
      if (state === 'ready') {
        return privateNode({
          url,
          node,
          folder,
          server,
          nodeEnv,
          nodeProcess,
          ownGroup,
          release,
          started,
        });
      }
      lastOutput = nodeProcess.output();
      await release();
      if (state === 'timeout' || !PORT_TAKEN.test(lastOutput)) {
        throw new IdemproofError(
          'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
          `the private RabbitMQ node ${node} (${server}) ${state === 'timeout' ? `did not accept an AMQP connection within ${START_TIMEOUT_MS / 1000} s` : 'exited while starting'}:\n${lastOutput.trim()}`,
        );
      }
    } catch (error) {
      await release();
      throw error;
    }
  }
  throw new IdemproofError(
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    `the private RabbitMQ node did not start in ${START_ATTEMPTS} attempts (ports taken?):\n${lastOutput.trim()}`,
  );
}

function privateNode(node: {
  url: string;
  node: string;
  folder: string;
  server: string;
  nodeEnv: NodeJS.ProcessEnv;
  nodeProcess: ManagedProcess;
  ownGroup: boolean;
  release: () => Promise<void>;
  started: number;
}): RabbitServer {
  const rabbitmqctl = join(dirname(node.server), 'rabbitmqctl');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      unregister();
      // The orderly way first; SIGTERM, then SIGKILL on the group, follow in `release`.
      await run(rabbitmqctl, ['-n', node.node, 'stop'], {
        env: node.nodeEnv,
        timeout: CTL_STOP_TIMEOUT_MS,
      }).catch(() => undefined);
      await node.release();
    })();
    return stopping;
  };
  const unregister = registerCleanup({
    name: `RabbitMQ node ${node.node}`,
    run: stop,
    onExit: () => {
      if (node.ownGroup) killGroup(node.nodeProcess.pid);
    },
  });
  const seconds = ((Date.now() - node.started) / 1000).toFixed(1);
  return {
    url: node.url,
    embedded: true,
    description: `private RabbitMQ node ${node.node} (pid ${node.nodeProcess.pid}, started in ${seconds} s) at ${redactAmqpUrl(node.url)}, data in ${node.folder}`,
    stop,
  };
}
