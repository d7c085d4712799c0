import { ToxiproxyApi, type ProxyInfo } from '../../nemesis/toxiproxy-api.js';
import { findFreePort } from '../../provision/free-port.js';
import { installKafka } from '../../provision/kafka-install.js';
import { startKafka } from '../../provision/kafka.js';
import { startPostgres, type PostgresServer } from '../../provision/postgres.js';
import { ensureRabbitmq } from '../../provision/rabbitmq-install.js';
import { startRabbitmq } from '../../provision/rabbitmq.js';
import { startToxiproxy, type ToxiproxyServer } from '../../provision/toxiproxy-start.js';
import { newRunPrefix, trackProxy } from '../stack.js';
import { startDemoConsumer } from './consumer.js';
import type { ConsumerFlaw, DemoConsumer, DemoConsumerOptions } from './types.js';

/**
 * What `idemproof demo --consumer <broker>` runs: PostgreSQL, Toxiproxy, a real broker, a
 * lane (`<prefix>_broker`) the demo consumer reaches the broker through, and the demo
 * consumer itself; and the environment the built-in consumer scenarios name.
 *
 * Must not: leave a broker, a consumer, a proxy or PostgreSQL behind (stopped in reverse
 * order, also when a later step fails).
 */

export type DemoBroker = 'rabbitmq' | 'kafka';

export const CONSUMER_QUEUE = 'orders';
export const CONSUMER_DEAD_LETTERS = 'orders.dlq';

export interface ConsumerStackOptions {
  readonly broker: DemoBroker;
  readonly flaw?: ConsumerFlaw;
  readonly databaseUrl?: string | undefined;
  readonly toxiproxyUrl?: string | undefined;
  /** An existing broker (amqp:// URL or Kafka bootstrap); otherwise one is started. */
  readonly brokerUrl?: string | undefined;
  readonly instances?: number;
  readonly processingMs?: number;
  readonly log?: (line: string) => void;
}

export interface ConsumerStack {
  readonly postgres: PostgresServer;
  readonly toxiproxy: ToxiproxyServer;
  /** "RabbitMQ node … at amqp://…" */
  readonly brokerDescription: string;
  /** The lane between the consumer and the broker. */
  readonly lane: ProxyInfo;
  /** The demo consumer running now. */
  readonly consumer: DemoConsumer;
  /** Stops the demo consumer and starts another with `flaw`, on the same broker and lane. */
  restartConsumer(flaw: ConsumerFlaw): Promise<void>;
  /** What scenarios/consumers/<broker>.yaml names: set these before running it. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startConsumerStack(options: ConsumerStackOptions): Promise<ConsumerStack> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const stop of stops.splice(0).reverse())
      await stop().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  };
  const log = options.log ?? (() => undefined);
  try {
    const postgres = await startPostgres({ databaseUrl: options.databaseUrl });
    stops.push(() => postgres.stop());
    const toxiproxy = await startToxiproxy({ optionUrl: options.toxiproxyUrl });
    stops.push(() => toxiproxy.stop());
    const api = new ToxiproxyApi(toxiproxy.url);
    const prefix = newRunPrefix('demo');
    const laneName = `${prefix}_broker`;
    trackProxy(api, laneName, prefix, stops);

    let env: Record<string, string>;
    let lane: ProxyInfo;
    let consumerBroker: DemoConsumerOptions['broker'];
    let brokerDescription: string;
    const common = {
      databaseUrl: postgres.url,
      instances: options.instances ?? 2,
      processingMs: options.processingMs ?? 20,
      log,
    } as const;
    if (options.broker === 'rabbitmq') {
      if (options.brokerUrl === undefined) await ensureRabbitmq({ log });
      const broker = await startRabbitmq({ url: options.brokerUrl });
      stops.push(() => broker.stop());
      brokerDescription = broker.description;
      const direct = new URL(broker.url);
      const upstream = `${direct.hostname}:${direct.port || '5672'}`;
      lane = await api.createProxy({ name: laneName, upstream, listen: '127.0.0.1:0' });
      const viaLane = new URL(broker.url);
      viaLane.hostname = '127.0.0.1';
      viaLane.port = String(lane.port);
      consumerBroker = {
        kind: 'rabbitmq',
        url: viaLane.toString(),
        queue: CONSUMER_QUEUE,
        deadLetterQueue: CONSUMER_DEAD_LETTERS,
      };
      env = { IDEMPROOF_DEMO_RABBITMQ_URL: broker.url };
    } else {
      if (options.brokerUrl === undefined) await installKafka({ log });
      // The broker advertises the lane's address on a listener of its own: a consumer that
      // bootstraps through the lane stays on it.
      const lanePort = await findFreePort();
      const broker = await startKafka({ url: options.brokerUrl, laneAdvertisedPort: lanePort });
      stops.push(() => broker.stop());
      brokerDescription = broker.description;
      lane = await api.createProxy({
        name: laneName,
        upstream: broker.laneUpstream ?? broker.bootstrap,
        listen: `127.0.0.1:${lanePort}`,
      });
      consumerBroker = {
        kind: 'kafka',
        bootstrap: `127.0.0.1:${lane.port}`,
        topic: CONSUMER_QUEUE,
        deadLetterTopic: CONSUMER_DEAD_LETTERS,
        groupId: `${prefix}_consumers`,
        partitions: 2,
      };
      env = { IDEMPROOF_DEMO_KAFKA_BOOTSTRAP: broker.bootstrap };
    }
    const start = async (flaw: ConsumerFlaw): Promise<DemoConsumer> => {
      const started = await startDemoConsumer({ ...common, flaw, broker: consumerBroker });
      await started.ready;
      return started;
    };
    let consumer = await start(options.flaw ?? 'none');
    stops.push(() => consumer.stop());
    const listen = `127.0.0.1:${lane.port}`;
    return {
      postgres,
      toxiproxy,
      brokerDescription,
      lane: { ...lane, listen },
      get consumer() {
        return consumer;
      },
      async restartConsumer(flaw) {
        await consumer.stop();
        consumer = await start(flaw);
      },
      env: {
        ...env,
        IDEMPROOF_DEMO_CONSUMER_DATABASE_URL: postgres.url,
        IDEMPROOF_DEMO_BROKER_LISTEN: listen,
        IDEMPROOF_DEMO_BROKER_UPSTREAM: lane.upstream,
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
