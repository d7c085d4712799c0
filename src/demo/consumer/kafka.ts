import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type IHeaders,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import { IdemproofError, describeError } from '../../errors.js';
import type { Processor } from './process.js';
import type { BrokerConsumers } from './rabbitmq.js';

/**
 * The Kafka side of a demo consumer: creates the topic and the dead-letter topic when missing,
 * then runs `instances` members of one consumer group (manual commits, one partition at a
 * time) that hand every record to the shared processor. A crashed member is started again.
 *
 * Must not: commit an offset before the processor settled the record, or delete a topic.
 */

export interface KafkaConsumerOptions {
  readonly bootstrap: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly partitions: number;
  readonly instances: number;
  readonly processor: Processor;
  readonly log: (line: string) => void;
}

const ADMIN_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 90_000;
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 1000;

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : first;
}

/** Creates the topic and the dead-letter topic when missing. */
async function createTopics(kafka: Kafka, options: KafkaConsumerOptions): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = [
      { topic: options.topic, numPartitions: options.partitions },
      { topic: options.deadLetterTopic, numPartitions: 1 },
    ].filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing,
        waitForLeaders: true,
        timeout: ADMIN_TIMEOUT_MS,
      });
    }
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `demo consumer: Kafka at ${options.bootstrap}: creating topics ${options.topic} and ` +
        `${options.deadLetterTopic} failed: ${describeError(error)}. Start the broker or pass ` +
        'the bootstrap address of one that runs.',
      { cause: error },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates the topics, connects a dead-letter producer and starts the group members; `ready`
 * resolves once every member joined and the members' assignments cover the topic's partitions.
 */
export async function startKafkaConsumers(options: KafkaConsumerOptions): Promise<BrokerConsumers> {
  const { log, processor, topic } = options;
  const kafka = new Kafka({
    clientId: 'idemproof-demo-consumer',
    brokers: [options.bootstrap],
    logLevel: logLevel.ERROR,
    logCreator:
      () =>
      ({ log: entry }: LogEntry) => {
        log(`kafkajs: ${entry.message}`);
      },
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 10 },
  });
  await createTopics(kafka, options);
  const producer: Producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `demo consumer: Kafka at ${options.bootstrap}: the dead-letter producer cannot connect: ` +
        describeError(error),
      { cause: error },
    );
  }

  let stopped = false;
  const members: (Consumer | undefined)[] = [];
  const assignments = new Map<number, number[]>();
  let resolveReady: () => void = () => undefined;
  let rejectReady: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);
  const readyTimer = setTimeout(() => {
    rejectReady(
      new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `demo consumer: group ${options.groupId} on Kafka at ${options.bootstrap} did not get ` +
          `the ${String(options.partitions)} partitions of ${topic} within ` +
          `${String(READY_TIMEOUT_MS / 1000)} s`,
      ),
    );
  }, READY_TIMEOUT_MS);

  function checkReady(): void {
    if (assignments.size < options.instances) return;
    const all = [...assignments.values()].flat();
    if (all.length === options.partitions && new Set(all).size === options.partitions) {
      clearTimeout(readyTimer);
      resolveReady();
    }
  }

  async function startMember(index: number, backoff: number): Promise<void> {
    if (stopped) return;
    const consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 500,
      // stop() waits for the fetch in flight: a short long-poll keeps it quick.
      maxWaitTimeInMs: 500,
      // After stop(), a crash that kafkajs was handling must not start the member again.
      retry: {
        initialRetryTime: 100,
        maxRetryTime: 1000,
        retries: 10,
        restartOnFailure: () => Promise.resolve(!stopped),
      },
    });
    members[index] = consumer;
    // kafkajs may finish a restart it began before stop(): such a member leaves at once.
    const leaveIfStopped = (): boolean => {
      if (stopped) void consumer.disconnect().catch(() => undefined);
      return stopped;
    };
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (leaveIfStopped()) return;
      assignments.set(index, event.payload.memberAssignment[topic] ?? []);
      checkReady();
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (leaveIfStopped()) return;
      log(
        `consumer ${String(index + 1)} crashed (${describeError(event.payload.error)}), ` +
          (event.payload.restart ? 'kafkajs restarts it' : 'starting it again'),
      );
      if (!event.payload.restart) restartLater(index, consumer, RESTART_MIN_MS);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 1,
        eachMessage: async ({ topic: from, partition, message }) => {
          const commit = () =>
            consumer.commitOffsets([
              { topic: from, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
          await processor.handle(
            {
              messageId: headerText(message.headers, 'message-id'),
              body: message.value,
              offsetKey: `${from}/${String(partition)}/${message.offset}`,
            },
            {
              done: commit,
              retry: () =>
                new Promise<void>((resolve) => {
                  consumer.seek({ topic: from, partition, offset: message.offset });
                  resolve();
                }),
              deadLetter: async () => {
                await producer.send({
                  topic: options.deadLetterTopic,
                  acks: -1,
                  messages: [{ key: message.key, value: message.value, headers: message.headers }],
                });
                await commit();
              },
            },
          );
        },
      });
    } catch (error) {
      log(`consumer ${String(index + 1)} cannot start: ${describeError(error)}`);
      restartLater(index, consumer, backoff);
    }
  }

  function restartLater(index: number, consumer: Consumer, backoff: number): void {
    if (stopped || members[index] !== consumer) return;
    members[index] = undefined;
    void consumer
      .disconnect()
      .catch(() => undefined)
      .then(() => new Promise((resolve) => setTimeout(resolve, backoff)))
      .then(() => startMember(index, Math.min(backoff * 2, RESTART_MAX_MS)));
  }

  await Promise.all(
    Array.from({ length: options.instances }, (_, index) => startMember(index, RESTART_MIN_MS)),
  );

  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(readyTimer);
      const clients = [...members.filter((member) => member !== undefined), producer];
      await Promise.all(clients.map((client) => client.disconnect().catch(() => undefined)));
    },
  };
}
