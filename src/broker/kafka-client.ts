import { randomBytes } from 'node:crypto';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type IHeaders,
  type KafkaMessage,
  type Message,
  type Producer,
} from 'kafkajs';
import { IdemproofError, describeError } from '../errors.js';
import { messageIdOf } from './message-id.js';
import { CONNECT_TIMEOUT_MS, DeadLetterTally, withTimeout } from './shared.js';
import type {
  BrokerClient,
  BrokerTarget,
  MessageIdPlace,
  OutgoingMessage,
  PublishReceipt,
} from './types.js';

/**
 * The Kafka side of a consumer scenario: an idempotent producer (acks=all, one request in
 * flight) that publishes keyed records with headers, copies records onto the dead-letter topic,
 * replays chosen dead letters back to the main topic through a consumer group of its own, and
 * finds dead letters (in such a group too) without moving them.
 *
 * Must not: join the consumer's group or read its topic, change a replayed record (same key,
 * headers and value), or let the broker create a topic by publishing to it.
 */

type KafkaTarget = Extract<BrokerTarget, { broker: 'kafka' }>;

const REQUEST_TIMEOUT_MS = 10_000;
/** How long a publish may wait for acks=all before its outcome is unknown. */
const SEND_TIMEOUT_MS = 15_000;
const SETUP_TIMEOUT_MS = 20_000;
const CLOSE_TIMEOUT_MS = 10_000;

/** Connects the admin and the producer, checks the topics exist, and returns a client. */
export async function createKafkaClient(target: KafkaTarget): Promise<BrokerClient> {
  const kafka = new Kafka({
    clientId: 'idemproof',
    brokers: target.bootstrap.split(',').map((broker) => broker.trim()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const disconnect = async (): Promise<void> => {
    await withTimeout(producer.disconnect(), CLOSE_TIMEOUT_MS).catch(() => undefined);
    await withTimeout(admin.disconnect(), CLOSE_TIMEOUT_MS).catch(() => undefined);
  };
  let topics: string[];
  try {
    topics = await withTimeout(
      (async () => {
        await admin.connect();
        return admin.listTopics();
      })(),
      SETUP_TIMEOUT_MS,
    );
  } catch (error) {
    await disconnect();
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `the Kafka broker at ${target.bootstrap} does not answer: ${describeError(error)}. ` +
        `Start it or fix the scenario's bootstrap address.`,
      { cause: error },
    );
  }
  for (const topic of [target.topic, target.deadLetterTopic]) {
    if (topic !== undefined && !topics.includes(topic)) {
      await disconnect();
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `topic '${topic}' does not exist on the Kafka broker at ${target.bootstrap}; start ` +
          `the consumer first, or create it`,
      );
    }
  }
  try {
    await withTimeout(producer.connect(), SETUP_TIMEOUT_MS);
  } catch (error) {
    await disconnect();
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `the idempotent producer could not connect to Kafka at ${target.bootstrap}: ` +
        describeError(error),
      { cause: error },
    );
  }
  return new KafkaClient(target, kafka, admin, producer);
}

/** A record as kafkajs takes it from an outgoing message. */
function recordOf(message: OutgoingMessage, withPartition: boolean): Message {
  return {
    key: message.key,
    value: message.body,
    headers: { ...message.headers },
    ...(withPartition && message.partition !== undefined ? { partition: message.partition } : {}),
  };
}

/** A consumed record, unchanged: same key, headers and value (the broker picks the partition). */
function copyOf(message: KafkaMessage): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = value;
  }
  return { key: message.key, value: message.value, headers };
}

class KafkaClient implements BrokerClient {
  readonly description: string;
  private closed = false;

  constructor(
    private readonly target: KafkaTarget,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: Producer,
  ) {
    this.description = `Kafka at ${target.bootstrap}, topic ${target.topic}`;
  }

  async partitions(): Promise<number> {
    try {
      const { topics } = await withTimeout(
        this.admin.fetchTopicMetadata({ topics: [this.target.topic] }),
        REQUEST_TIMEOUT_MS,
      );
      return topics[0]?.partitions.length ?? 0;
    } catch (error) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `cannot read the partitions of topic '${this.target.topic}' on Kafka at ` +
          `${this.target.bootstrap}: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  async publish(message: OutgoingMessage): Promise<PublishReceipt> {
    const aimed =
      message.partition === undefined
        ? `topic ${this.target.topic}`
        : `topic ${this.target.topic} partition ${String(message.partition)}`;
    try {
      const [landed] = await withTimeout(
        this.producer.send({
          topic: this.target.topic,
          acks: -1,
          timeout: REQUEST_TIMEOUT_MS,
          messages: [recordOf(message, true)],
        }),
        SEND_TIMEOUT_MS,
        'no acks=all answer (outcome unknown)',
      );
      if (landed === undefined) return { ok: false, where: aimed, error: 'no record metadata' };
      const offset = landed.baseOffset ?? landed.offset ?? '?';
      return { ok: true, where: `partition ${String(landed.partition)} offset ${offset}` };
    } catch (error) {
      return { ok: false, where: aimed, error: describeError(error) };
    }
  }

  async publishMany(messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]> {
    const aimed = `topic ${this.target.topic}`;
    if (messages.length === 0) return [];
    try {
      const landed = await withTimeout(
        this.producer.send({
          topic: this.target.topic,
          acks: -1,
          timeout: REQUEST_TIMEOUT_MS,
          messages: messages.map((message) => recordOf(message, true)),
        }),
        SEND_TIMEOUT_MS,
        'no acks=all answer (outcome unknown)',
      );
      const where = `${aimed}, a batch of ${String(messages.length)} (${landed
        .map(
          (partition) =>
            `partition ${String(partition.partition)} from offset ${partition.baseOffset ?? '?'}`,
        )
        .join(', ')})`;
      return messages.map(() => ({ ok: true, where }));
    } catch (error) {
      const failed = { ok: false, where: aimed, error: describeError(error) };
      return messages.map(() => failed);
    }
  }

  async deadLetter(messages: readonly OutgoingMessage[]): Promise<void> {
    const topic = this.deadLetterTopic();
    if (messages.length === 0) return;
    try {
      await withTimeout(
        this.producer.send({
          topic,
          acks: -1,
          timeout: REQUEST_TIMEOUT_MS,
          messages: messages.map((message) => recordOf(message, false)),
        }),
        SEND_TIMEOUT_MS,
        'no acks=all answer',
      );
    } catch (error) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `could not put ${String(messages.length)} record(s) on dead-letter topic '${topic}' ` +
          `(Kafka at ${this.target.bootstrap}): ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  async replayDeadLetters(
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
  ): Promise<string[]> {
    const topic = this.deadLetterTopic();
    const { found: moved, failure } = await this.scanDeadLetters(
      topic,
      ids,
      idPlace,
      timeoutMs,
      'replay',
      async (message) => {
        await withTimeout(
          this.producer.send({
            topic: this.target.topic,
            acks: -1,
            timeout: REQUEST_TIMEOUT_MS,
            messages: [copyOf(message)],
          }),
          SEND_TIMEOUT_MS,
          'no acks=all answer',
        );
      },
    );
    if (failure !== undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `replaying dead letters from topic '${topic}' to '${this.target.topic}' on Kafka at ` +
          `${this.target.bootstrap} failed (moved so far: ${moved.join(', ') || 'none'}): ` +
          describeError(failure),
        { cause: failure },
      );
    }
    return moved;
  }

  async findDeadLetters(
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
  ): Promise<string[]> {
    const topic = this.deadLetterTopic();
    const { found, failure } = await this.scanDeadLetters(
      topic,
      ids,
      idPlace,
      timeoutMs,
      'find',
      () => Promise.resolve(),
    );
    if (failure !== undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `could not read dead-letter topic '${topic}' on Kafka at ${this.target.bootstrap} ` +
          `(found so far: ${found.join(', ') || 'none'}): ${describeError(failure)}`,
        { cause: failure },
      );
    }
    return [...new Set(found)];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await withTimeout(this.producer.disconnect(), CLOSE_TIMEOUT_MS).catch(() => undefined);
    await withTimeout(this.admin.disconnect(), CLOSE_TIMEOUT_MS).catch(() => undefined);
  }

  /**
   * Reads `topic` from the beginning in a consumer group of its own (deleted after) until every
   * id in `ids` was seen or the timeout passed, and hands each wanted record to `take` (which
   * throws to stop the scan). Commits no offsets. Returns the wanted ids in the order they came
   * (twice if a record was there twice) and the first failure, if any.
   */
  private async scanDeadLetters(
    topic: string,
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
    purpose: 'replay' | 'find',
    take: (message: KafkaMessage) => Promise<void>,
  ): Promise<{ found: string[]; failure?: unknown }> {
    const tally = new DeadLetterTally(ids);
    const found = tally.found;
    if (tally.complete) return { found };
    const groupId = `idemproof-dlq-${purpose}-${randomBytes(6).toString('hex')}`;
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    let failure: unknown;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const timer = setTimeout(() => finish(), timeoutMs);
    try {
      await withTimeout(consumer.connect(), SETUP_TIMEOUT_MS);
      await withTimeout(
        consumer.subscribe({ topics: [topic], fromBeginning: true }),
        SETUP_TIMEOUT_MS,
      );
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          if (failure !== undefined || tally.complete) return;
          const id = messageIdOf(idPlace, {
            headers: message.headers,
            body: message.value ?? Buffer.alloc(0),
          });
          if (!tally.wants(id)) return;
          try {
            await take(message);
          } catch (error) {
            failure = error;
            finish();
            return;
          }
          tally.take(id);
          if (tally.complete) finish();
        },
      });
      await done;
    } catch (error) {
      failure ??= error;
    } finally {
      clearTimeout(timer);
      await withTimeout(consumer.disconnect(), CLOSE_TIMEOUT_MS).catch(() => undefined);
      await withTimeout(this.admin.deleteGroups([groupId]), CLOSE_TIMEOUT_MS).catch(
        () => undefined,
      );
    }
    return failure === undefined ? { found } : { found, failure };
  }

  private deadLetterTopic(): string {
    const topic = this.target.deadLetterTopic;
    if (topic === undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_SCENARIO',
        `no dead-letter topic for ${this.description}: set the target's deadLetterTopic to ` +
          `the topic the consumer's failures land in`,
      );
    }
    return topic;
  }
}
