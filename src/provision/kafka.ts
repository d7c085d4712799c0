import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { IdemproofError, describeError } from '../errors.js';
import { spawnManaged, waitUntilReady } from './child-process.js';
import { startManagedContainer } from './container.js';
import { findFreePort } from './free-port.js';
import {
  findInstalledKafka,
  findJava,
  kafkaClasspath,
  kafkaLog4jConfig,
  KAFKA_VERSION,
} from './kafka-install.js';
import { chooseKafka } from './kafka-locate.js';
import { makeManagedFolder } from './temp-folder.js';
import { probeDockerEngine } from './toxiproxy-locate.js';

/** A Kafka broker to use, and how to let go of it. */
export interface KafkaServer {
  /** The bootstrap list clients take: `host:port[,host:port]`. */
  readonly bootstrap: string;
  /** true when idemproof started it (and `stop()` removes it). */
  readonly embedded: boolean;
  /** One line for people. */
  readonly description: string;
  /**
   * With `laneAdvertisedPort`: `127.0.0.1:<port>` of the broker's real LANE listener, the
   * upstream of the Toxiproxy proxy the caller puts at the advertised port.
   */
  readonly laneUpstream?: string;
  /** Stops and removes a broker idemproof started; for an existing broker it does nothing. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const EXISTING_BROKER_TIMEOUT_MS = 10_000;
/** The JVM flags every broker and tool run gets: a small heap, no shared perf-data file. */
export const KAFKA_JVM_FLAGS = [
  '-Xms64m',
  '-Xmx512m',
  '-XX:-UsePerfData',
  '-Djava.awt.headless=true',
];

/**
 * Uses the broker in `url` (or `IDEMPROOF_KAFKA_URL`, or `KAFKA_BOOTSTRAP`) when given;
 * otherwise starts a throwaway single-node KRaft broker (broker and controller in one JVM) from
 * the jars `installKafka` put in the tools folder, on free loopback ports in a temporary folder
 * that `stop()` removes; otherwise an `apache/kafka` container. Ready means a real client's
 * metadata call succeeded, not a log line.
 *
 * Must not: start anything when a URL is given, or leave the JVM or its folder behind.
 */
export async function startKafka(
  options: {
    url?: string | undefined;
    env?: NodeJS.ProcessEnv;
    /**
     * Adds a second listener, `LANE`, on a free loopback port, advertised at this port: clients
     * bootstrapped through a proxy listening here (relaying to `laneUpstream`) stay on the
     * proxy, so a fault lane sits between a consumer and the broker. Ignored for a given URL.
     */
    laneAdvertisedPort?: number | undefined;
  } = {},
): Promise<KafkaServer> {
  const env = options.env ?? process.env;
  const choice = await chooseKafka({
    url: options.url ?? (env.IDEMPROOF_KAFKA_URL || env.KAFKA_BOOTSTRAP),
    jars: () => findInstalledKafka(env),
    dockerEngine: () => probeDockerEngine(),
  });
  switch (choice.way) {
    case 'url':
      return useExistingBroker(choice.bootstrap);
    case 'jars':
      return startFromJars(env, choice.home, options.laneAdvertisedPort);
    case 'container':
      return startContainer(choice.image, options.laneAdvertisedPort);
  }
}

/**
 * Does a real client's metadata call succeed within `timeoutMs`? Resolves with the number of
 * brokers in the cluster; rejects with the client's error.
 */
export async function describeKafkaCluster(bootstrap: string, timeoutMs: number): Promise<number> {
  const admin = new Kafka({
    clientId: 'idemproof-probe',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no metadata answer within ${String(timeoutMs)} ms`)),
      timeoutMs,
    );
  });
  try {
    const ask = (async () => {
      await admin.connect();
      return (await admin.describeCluster()).brokers.length;
    })();
    ask.catch(() => undefined);
    return await Promise.race([ask, deadline]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

async function useExistingBroker(bootstrap: string): Promise<KafkaServer> {
  try {
    await describeKafkaCluster(bootstrap, EXISTING_BROKER_TIMEOUT_MS);
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `the Kafka broker at ${bootstrap} (IDEMPROOF_KAFKA_URL or KAFKA_BOOTSTRAP) does not answer ` +
        `a metadata request: ${describeError(error)}. Start it, fix the address, or unset ` +
        `the variable to let idemproof start a broker of its own.`,
      { cause: error },
    );
  }
  return {
    bootstrap,
    embedded: false,
    description: `existing Kafka broker at ${bootstrap}`,
    stop: () => Promise.resolve(),
  };
}

/** A cluster id as Kafka writes them (16 random bytes, URL-safe base64), never led by '-'. */
export function randomClusterId(): string {
  const id = randomBytes(16).toString('base64url');
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

/** server.properties of a single-node KRaft broker that only listens on loopback. */
export function kafkaServerProperties(ports: {
  broker: number;
  controller: number;
  logDir: string;
  /** A second plaintext listener on `port`, advertised at `advertisedPort` (a proxy's). */
  lane?: { port: number; advertisedPort: number } | undefined;
}): string {
  const broker = `127.0.0.1:${String(ports.broker)}`;
  const controller = `127.0.0.1:${String(ports.controller)}`;
  const lane =
    ports.lane === undefined
      ? undefined
      : {
          listen: `LANE://127.0.0.1:${String(ports.lane.port)}`,
          advertised: `LANE://127.0.0.1:${String(ports.lane.advertisedPort)}`,
        };
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${controller}`,
    `listeners=PLAINTEXT://${broker},${lane === undefined ? '' : `${lane.listen},`}CONTROLLER://${controller}`,
    `advertised.listeners=PLAINTEXT://${broker}${lane === undefined ? '' : `,${lane.advertised}`}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${lane === undefined ? '' : ',LANE:PLAINTEXT'}`,
    `log.dirs=${ports.logDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'min.insync.replicas=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/** `java <flags> -cp <home>/libs/* <mainClass> <args>` as an argument list. */
export function kafkaJavaArgs(home: string, mainClass: string, args: readonly string[]): string[] {
  return [
    ...KAFKA_JVM_FLAGS,
    `-Dlog4j2.configurationFile=${kafkaLog4jConfig(home)}`,
    '-cp',
    kafkaClasspath(home),
    mainClass,
    ...args,
  ];
}

async function runToCompletion(
  name: string,
  java: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<void> {
  const child = spawnManaged(name, java, args, { env });
  const timer = setTimeout(() => void child.stop('SIGKILL'), timeoutMs);
  const code = await child.exited.finally(() => clearTimeout(timer));
  if (code !== 0) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `${name} failed (exit ${String(code)}):\n${child.output().trim()}`,
    );
  }
}

async function startFromJars(
  env: NodeJS.ProcessEnv,
  home: string,
  laneAdvertisedPort: number | undefined,
): Promise<KafkaServer> {
  const java = await findJava(env);
  const { path: folder, remove: removeFolder } = await makeManagedFolder(
    join(tmpdir(), 'idemproof-kafka-'),
    'Kafka folder',
  );

  try {
    let lastOutput = '';
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      // A fresh folder per attempt: the storage is formatted for one set of listeners.
      const attemptDir = join(folder, `attempt-${String(attempt)}`);
      const logDir = join(attemptDir, 'data');
      await mkdir(logDir, { recursive: true });
      const broker = await findFreePort();
      let controller = await findFreePort();
      while (controller === broker) controller = await findFreePort();
      let lane: { port: number; advertisedPort: number } | undefined;
      if (laneAdvertisedPort !== undefined) {
        let port = await findFreePort();
        while ([broker, controller, laneAdvertisedPort].includes(port)) port = await findFreePort();
        lane = { port, advertisedPort: laneAdvertisedPort };
      }
      const properties = join(attemptDir, 'server.properties');
      await writeFile(properties, kafkaServerProperties({ broker, controller, logDir, lane }));
      await runToCompletion(
        'kafka-storage format',
        java,
        kafkaJavaArgs(home, 'kafka.tools.StorageTool', [
          'format',
          '--cluster-id',
          randomClusterId(),
          '--config',
          properties,
          '--ignore-formatted',
        ]),
        env,
        START_TIMEOUT_MS,
      );

      const bootstrap = `127.0.0.1:${String(broker)}`;
      const server = spawnManaged('kafka', java, kafkaJavaArgs(home, 'kafka.Kafka', [properties]), {
        env,
        cwd: attemptDir,
      });
      const state = await waitUntilReady(
        server,
        async () => (await describeKafkaCluster(bootstrap, 2000)) > 0,
        START_TIMEOUT_MS,
        250,
      );
      if (state === 'ready') {
        return {
          bootstrap,
          embedded: true,
          ...(lane === undefined ? {} : { laneUpstream: `127.0.0.1:${String(lane.port)}` }),
          description: `embedded Kafka ${KAFKA_VERSION} (KRaft, pid ${String(server.pid)}) at ${bootstrap}, data in ${folder}`,
          stop: async () => {
            await server.stop('SIGTERM', STOP_GRACE_MS);
            await removeFolder();
          },
        };
      }
      lastOutput = server.output();
      await server.stop('SIGKILL');
      if (state === 'timeout' || !/address already in use|BindException/i.test(lastOutput)) {
        lastOutput = `${state === 'timeout' ? `no metadata answer from ${bootstrap} within ${String(START_TIMEOUT_MS / 1000)} s` : 'the JVM exited'}:\n${lastOutput}`;
        break;
      }
    }
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `embedded Kafka ${KAFKA_VERSION} from ${home} did not start: ${lastOutput.trim()}`,
    );
  } catch (error) {
    await removeFolder();
    throw error;
  }
}

/**
 * An `apache/kafka` container through testcontainers. The advertised listener must be the
 * address clients use, so the host port is chosen first and bound explicitly.
 */
async function startContainer(
  image: string,
  laneAdvertisedPort: number | undefined,
): Promise<KafkaServer> {
  const hostPort = await findFreePort();
  const bootstrap = `127.0.0.1:${String(hostPort)}`;
  let laneHostPort: number | undefined;
  if (laneAdvertisedPort !== undefined) {
    laneHostPort = await findFreePort();
    while ([hostPort, laneAdvertisedPort].includes(laneHostPort))
      laneHostPort = await findFreePort();
  }
  const lane = laneHostPort === undefined ? '' : `,LANE://127.0.0.1:${String(laneAdvertisedPort)}`;
  const { container, stop } = await startManagedContainer(
    image,
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    (generic, Wait) =>
      generic
        .withEnvironment({
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: `PLAINTEXT://:9092,CONTROLLER://:9093${lane === '' ? '' : ',LANE://:9094'}`,
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${bootstrap}${lane}`,
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${lane === '' ? '' : ',LANE:PLAINTEXT'}`,
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_MIN_INSYNC_REPLICAS: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          KAFKA_HEAP_OPTS: '-Xms64m -Xmx512m',
        })
        .withExposedPorts(
          { container: 9092, host: hostPort },
          ...(laneHostPort === undefined ? [] : [{ container: 9094, host: laneHostPort }]),
        )
        .withWaitStrategy(Wait.forListeningPorts()),
  );
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await describeKafkaCluster(bootstrap, 2000);
      return {
        bootstrap,
        embedded: true,
        ...(laneHostPort === undefined
          ? {}
          : { laneUpstream: `127.0.0.1:${String(laneHostPort)}` }),
        description: `${image} container ${container.getId().slice(0, 12)} at ${bootstrap}`,
        stop,
      };
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new IdemproofError(
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    `${image} container did not answer a metadata request at ${bootstrap} within ` +
      `${String(START_TIMEOUT_MS / 1000)} s: ${describeError(lastError)}`,
  );
}
