import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBrokerClient } from '../../../src/broker/client.js';
import type { BrokerTarget, OutgoingMessage } from '../../../src/broker/types.js';
import { isIdemproofError } from '../../../src/errors.js';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { findFreePort } from '../../../src/provision/free-port.js';
import { installKafka } from '../../../src/provision/kafka-install.js';
import { startKafka, type KafkaServer } from '../../../src/provision/kafka.js';

/** The JVM is slow on two cores: one broker for the whole file, with a lane listener. */
let server: KafkaServer | undefined;
let admin: Admin | undefined;
let laneAdvertisedPort = 0;
const noBrokerEnv = { ...process.env, IDEMPROOF_KAFKA_URL: '', KAFKA_BOOTSTRAP: '' };

function broker(): KafkaServer {
  if (server === undefined) throw new Error('the broker did not start in beforeAll');
  return server;
}

function kafkaAdmin(): Admin {
  if (admin === undefined) throw new Error('no admin');
  return admin;
}

function target(topic: string, deadLetterTopic?: string): BrokerTarget {
  return { broker: 'kafka', bootstrap: broker().bootstrap, topic, deadLetterTopic };
}

function outgoing(id: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id,
    key: `entity-${id}`,
    headers: { 'message-id': id, tenant: 't1' },
    body: Buffer.from(JSON.stringify({ entity: `entity-${id}`, amount: 5 })),
    ...extra,
  };
}

function text(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]),
  );
}

interface Received {
  id: string;
  key: string;
  partition: number;
  offset: string;
  headers: Record<string, string>;
  body: string;
}

/** A plain kafkajs consumer in a fresh group: every record of `topic` until `count` arrived. */
async function readTopic(topic: string, count: number, bootstrap?: string): Promise<Received[]> {
  const consumer = new Kafka({
    clientId: 'idemproof-test-reader',
    brokers: [bootstrap ?? broker().bootstrap],
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: `idemproof-test-${randomBytes(4).toString('hex')}` });
  const received: Received[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${String(received.length)} of ${String(count)} in 30 s`)),
        30_000,
      );
      void consumer.run({
        eachMessage: ({ message, partition }) => {
          const headers = text(message.headers);
          received.push({
            id: headers['message-id'] ?? '',
            key: message.key?.toString() ?? '',
            partition,
            offset: message.offset,
            headers,
            body: message.value?.toString() ?? '',
          });
          if (received.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return received;
}

/** How many records `topic` holds (the sum of its partitions' high watermarks). */
async function recordCount(topic: string): Promise<number> {
  const offsets = await kafkaAdmin().fetchTopicOffsets(topic);
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

describe('Kafka broker client (real broker)', () => {
  beforeAll(async () => {
    await installKafka();
    laneAdvertisedPort = await findFreePort();
    server = await startKafka({ env: noBrokerEnv, laneAdvertisedPort });
    admin = new Kafka({
      clientId: 'idemproof-test-admin',
      brokers: [server.bootstrap],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: 'orders', numPartitions: 2 },
        { topic: 'orders-replay', numPartitions: 2 },
        { topic: 'orders-dead', numPartitions: 1 },
        { topic: 'orders-found', numPartitions: 1 },
        { topic: 'orders-found-dead', numPartitions: 1 },
        { topic: 'lane', numPartitions: 1 },
      ],
    });
  }, 600_000);

  afterAll(async () => {
    await admin?.disconnect().catch(() => undefined);
    await server?.stop();
  }, 60_000);

  it('publishes keyed records with headers (acks=all) and says partition and offset', async () => {
    const client = await createBrokerClient(target('orders', 'orders-dead'));
    try {
      expect(client.description).toBe(`Kafka at ${broker().bootstrap}, topic orders`);
      expect(await client.partitions()).toBe(2);
      const sent = [
        outgoing('k-1'),
        outgoing('k-2'),
        outgoing('k-3', { key: 'entity-k-1', partition: 1 }),
      ];
      const receipts = [];
      for (const message of sent) receipts.push(await client.publish(message));
      for (const receipt of receipts) {
        expect(receipt.ok).toBe(true);
        expect(receipt.where).toMatch(/^partition [01] offset \d+$/);
      }
      expect(receipts[2]?.where).toMatch(/^partition 1 offset/);

      const received = await readTopic('orders', 3);
      for (const [index, message] of sent.entries()) {
        const got = received.find((record) => record.id === message.id);
        expect(got).toMatchObject({
          key: message.key,
          headers: { 'message-id': message.id, tenant: 't1' },
          body: message.body.toString(),
        });
        expect(`partition ${String(got?.partition)} offset ${String(got?.offset)}`).toBe(
          receipts[index]?.where,
        );
      }
    } finally {
      await client.close();
    }
  });

  it('deadLetter then replayDeadLetters moves exactly the wanted ids back, unchanged', async () => {
    const client = await createBrokerClient(target('orders-replay', 'orders-dead'));
    try {
      await client.deadLetter(['x-1', 'x-2', 'x-3', 'x-4'].map((id) => outgoing(id)));
      expect(await recordCount('orders-dead')).toBe(4);

      const started = Date.now();
      const moved = await client.replayDeadLetters(
        ['x-3', 'x-1'],
        { header: 'message-id' },
        30_000,
      );
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(`Kafka dead-letter replay of 2 records: ${seconds.toFixed(1)} s\n`);
      expect(moved).toEqual(['x-1', 'x-3']);
      expect(await recordCount('orders-replay')).toBe(2);
      const back = await readTopic('orders-replay', 2);
      expect(back.map((record) => record.id).sort()).toEqual(['x-1', 'x-3']);
      for (const record of back) {
        expect(record.key).toBe(`entity-${record.id}`);
        expect(record.headers).toEqual({ 'message-id': record.id, tenant: 't1' });
        expect(JSON.parse(record.body)).toEqual({ entity: `entity-${record.id}`, amount: 5 });
      }
      // The others stay on the dead-letter topic (and the replay's group is gone).
      const dead = await readTopic('orders-dead', 4);
      expect(dead.map((record) => record.id)).toEqual(['x-1', 'x-2', 'x-3', 'x-4']);
      const groups = (await kafkaAdmin().listGroups()).groups.map((group) => group.groupId);
      expect(groups.filter((id) => id.startsWith('idemproof-dlq-replay-'))).toEqual([]);

      // A wanted id that never comes: the replay waits out its timeout, moves what it found.
      const partial = await client.replayDeadLetters(['x-4', 'never'], { field: 'entity' }, 100);
      expect(partial).toEqual([]);
      const byField = await client.replayDeadLetters(
        ['entity-x-4', 'never'],
        { field: 'entity' },
        3000,
      );
      expect(byField).toEqual(['x-4'].map((id) => `entity-${id}`));
      expect(await recordCount('orders-replay')).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('findDeadLetters says which ids are on the dead-letter topic and moves none', async () => {
    const client = await createBrokerClient(target('orders-found', 'orders-found-dead'));
    try {
      await client.deadLetter(['f-1', 'f-2', 'f-3'].map((id) => outgoing(id)));
      expect(await recordCount('orders-found-dead')).toBe(3);

      const started = Date.now();
      const found = await client.findDeadLetters(
        ['f-3', 'f-1', 'absent'],
        { header: 'message-id' },
        8000,
      );
      const waited = Date.now() - started;
      expect(found).toEqual(['f-1', 'f-3']);
      const quick = Date.now();
      expect(await client.findDeadLetters(['f-2'], { header: 'message-id' }, 30_000)).toEqual([
        'f-2',
      ]);
      const fast = Date.now() - quick;
      process.stdout.write(
        `Kafka findDeadLetters: ${(waited / 1000).toFixed(1)} s with an absent id (timeout ` +
          `8 s), ${(fast / 1000).toFixed(1)} s when all are there\n`,
      );
      expect(await recordCount('orders-found')).toBe(0);
      const groups = (await kafkaAdmin().listGroups()).groups.map((group) => group.groupId);
      expect(groups.filter((id) => id.startsWith('idemproof-dlq-'))).toEqual([]);

      // Nothing was removed or committed: a replay still finds and moves them.
      expect(
        await client.replayDeadLetters(['f-1', 'f-3'], { header: 'message-id' }, 30_000),
      ).toEqual(['f-1', 'f-3']);
      expect(await recordCount('orders-found')).toBe(2);
      expect(await recordCount('orders-found-dead')).toBe(3);
    } finally {
      await client.close();
    }
  }, 90_000);

  it('a missing topic or dead-letter topic fails clearly, before any traffic', async () => {
    const topic = await caught(createBrokerClient(target('no-such-topic')));
    expect(isIdemproofError(topic) && topic.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect(topic.message).toBe(
      `topic 'no-such-topic' does not exist on the Kafka broker at ${broker().bootstrap}; ` +
        'start the consumer first, or create it',
    );
    const dead = await caught(createBrokerClient(target('orders', 'no-such-dlq')));
    expect(dead.message).toContain("topic 'no-such-dlq' does not exist");
    expect(await kafkaAdmin().listTopics()).not.toContain('no-such-topic');

    const port = await findFreePort();
    const nowhere = await caught(
      createBrokerClient({ broker: 'kafka', bootstrap: `127.0.0.1:${String(port)}`, topic: 'x' }),
    );
    expect(isIdemproofError(nowhere) && nowhere.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect(nowhere.message).toContain(`127.0.0.1:${String(port)}`);
  }, 90_000);

  it('a consumer through a Toxiproxy lane stays on it: disabled it stops, enabled it resumes', async () => {
    const upstream = broker().laneUpstream;
    expect(upstream).toMatch(/^127\.0\.0\.1:\d+$/);
    const toxiproxyUrl = inject('toxiproxyUrl');
    const api = new ToxiproxyApi(toxiproxyUrl);
    const name = `idemproof-kafka-lane-${randomBytes(4).toString('hex')}`;
    const setEnabled = async (enabled: boolean): Promise<void> => {
      const response = await fetch(`${toxiproxyUrl}/proxies/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enabled }),
      });
      expect(response.status).toBe(200);
    };
    await api.createProxy({
      name,
      listen: `127.0.0.1:${String(laneAdvertisedPort)}`,
      upstream: upstream ?? '',
    });
    const client = await createBrokerClient(target('lane'));
    const consumer = new Kafka({
      clientId: 'idemproof-test-lane',
      brokers: [`127.0.0.1:${String(laneAdvertisedPort)}`],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 30 },
    }).consumer({ groupId: `idemproof-test-lane-${randomBytes(4).toString('hex')}` });
    const received: string[] = [];
    const arrived = async (id: string, withinMs: number): Promise<boolean> => {
      const deadline = Date.now() + withinMs;
      while (Date.now() < deadline) {
        if (received.includes(id)) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return received.includes(id);
    };
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: ['lane'], fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          received.push(text(message.headers)['message-id'] ?? '');
          return Promise.resolve();
        },
      });
      expect((await client.publish(outgoing('l-1'))).ok).toBe(true);
      expect(await arrived('l-1', 30_000)).toBe(true);

      await setEnabled(false);
      expect((await client.publish(outgoing('l-2'))).ok).toBe(true);
      expect(await arrived('l-2', 5000)).toBe(false);

      const enabledAt = Date.now();
      await setEnabled(true);
      expect(await arrived('l-2', 45_000)).toBe(true);
      process.stdout.write(
        `Kafka lane: consumer resumed ${((Date.now() - enabledAt) / 1000).toFixed(1)} s after the proxy came back\n`,
      );
      expect(received).toEqual(['l-1', 'l-2']);
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await client.close();
      await api.removeProxy(name);
    }
  }, 120_000);
});
