import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDemoConsumer } from '../../../src/demo/consumer/consumer.js';
import type { DemoConsumer, DemoConsumerOptions } from '../../../src/demo/consumer/types.js';
import { installKafka } from '../../../src/provision/kafka-install.js';
import { startKafka, type KafkaServer } from '../../../src/provision/kafka.js';
import { consumerDb, need, sleep, uid } from '../../support/consumer-db.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * The Kafka demo consumer against an embedded Kafka broker and the shared PostgreSQL: the
 * correct consumer processes each message id once, and each flaw misbehaves as it says.
 */

let server: KafkaServer | undefined;
let kafka: Kafka | undefined;
let producer: Producer | undefined;
let database: TestDatabase | undefined;

const { waitFor, rowsOf, effects } = consumerDb(() => database, 20_000);

interface Run {
  readonly consumer: DemoConsumer;
  readonly deadLetterTopic: string;
  /** Publishes to partition 0 unless told otherwise. */
  readonly publish: (id: string, body: unknown, partition?: number) => Promise<void>;
}

/** Publishes versions 3, 1, 2 of one entity; its state once all 3 are processed. */
async function stateAfterVersions(run: Run, partitionOf: (index: number) => number) {
  const entity = uid('order');
  for (const [index, version] of [3, 1, 2].entries()) {
    await run.publish(`${entity}-v${String(version)}`, { entity, version }, partitionOf(index));
  }
  await waitFor(
    '3 effects',
    async () => (await rowsOf('consumer_effects', 'entity', entity)) === 3,
  );
  return need(database, 'db').query<{ version: number }>(
    'SELECT version FROM consumer_state WHERE entity = $1',
    [entity],
  );
}

/** Starts a consumer on fresh topics and group, runs `body`, stops it. */
async function withConsumer(
  options: Partial<Omit<DemoConsumerOptions, 'broker' | 'databaseUrl'>>,
  body: (run: Run) => Promise<void>,
): Promise<void> {
  const topic = uid('orders');
  const deadLetterTopic = `${topic}.dead`;
  const consumer = await startDemoConsumer({
    broker: {
      kind: 'kafka',
      bootstrap: need(server, 'Kafka').bootstrap,
      topic,
      deadLetterTopic,
      groupId: `${topic}-group`,
    },
    databaseUrl: need(database, 'the database').url,
    ...options,
  });
  try {
    await consumer.ready;
    await body({
      consumer,
      deadLetterTopic,
      publish: async (id, payload, partition = 0) => {
        await need(producer, 'the producer').send({
          topic,
          acks: -1,
          messages: [
            {
              partition,
              value: typeof payload === 'string' ? payload : JSON.stringify(payload),
              headers: { 'message-id': id },
            },
          ],
        });
      },
    });
  } finally {
    await consumer.stop();
  }
}

describe('Kafka demo consumer', () => {
  beforeAll(async () => {
    await installKafka();
    server = await startKafka({
      env: { ...process.env, IDEMPROOF_KAFKA_URL: '', KAFKA_BOOTSTRAP: '' },
    });
    kafka = new Kafka({
      clientId: 'idemproof-consumer-test',
      brokers: [server.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    database = await createTestDatabase(inject('databaseUrl'));
  }, 600_000);

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await server?.stop();
    await database?.drop();
  }, 60_000);

  it('processes a message published 3 times once', async () => {
    await withConsumer({}, async ({ consumer, publish }) => {
      const id = uid('dup');
      for (let n = 0; n < 3; n += 1) await publish(id, { entity: uid('e'), amount: 5 }, n % 2);
      await waitFor('3 deliveries', () => Promise.resolve(consumer.deliveries(id) === 3));
      await sleep(300);
      expect(await effects(id)).toBe(1);
    });
  });

  it('processes 5 messages once each, all in the inbox', async () => {
    await withConsumer({}, async ({ publish }) => {
      const ids = Array.from({ length: 5 }, () => uid('each'));
      for (const [index, id] of ids.entries()) await publish(id, { entity: uid('e') }, index % 2);
      await waitFor('5 effects', async () => (await effects(ids)) === 5);
      await sleep(300);
      expect(await effects(ids)).toBe(5);
      expect(await rowsOf('consumer_inbox', 'message_id', ids)).toBe(5);
    });
  });

  it('keeps the highest version of shuffled events', async () => {
    await withConsumer({}, async (run) => {
      expect(await stateAfterVersions(run, (index) => index % 2)).toEqual([{ version: 3 }]);
    });
  });

  it('dead-letters a poison message after 3 deliveries and processes the ones behind it', async () => {
    await withConsumer({}, async ({ consumer, publish, deadLetterTopic }) => {
      const poison = uid('poison');
      await publish(poison, 'not json {');
      const ids = Array.from({ length: 3 }, () => uid('after'));
      for (const id of ids) await publish(id, { entity: uid('e') });
      await waitFor(
        'a consumer_dead row',
        async () => (await rowsOf('consumer_dead', 'message_id', poison)) === 1,
      );
      await waitFor('3 effects', async () => (await effects(ids)) === 3);
      expect(consumer.deliveries(poison)).toBe(3);
      const admin = need(kafka, 'Kafka').admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(deadLetterTopic);
        expect(offsets.map((offset) => offset.high)).toEqual(['1']);
      } finally {
        await admin.disconnect();
      }
    });
  });

  it.each(['no-inbox', 'inbox-after-effect'] as const)(
    'flaw %s: 3 effects for a message published 3 times',
    async (flaw) => {
      await withConsumer({ flaw }, async ({ publish }) => {
        const id = uid(flaw);
        for (let n = 0; n < 3; n += 1) await publish(id, { entity: uid('e') });
        await waitFor('3 effects', async () => (await effects(id)) === 3);
        await sleep(300);
        expect(await effects(id)).toBe(3);
      });
    },
  );

  it('flaw inbox-outside-transaction: 2 effects for a message sent to 2 partitions at once', async () => {
    await withConsumer(
      { flaw: 'inbox-outside-transaction', processingMs: 200 },
      async ({ publish }) => {
        const id = uid('outside');
        await Promise.all([
          publish(id, { entity: uid('e') }, 0),
          publish(id, { entity: uid('e') }, 1),
        ]);
        await waitFor('2 effects', async () => (await effects(id)) === 2);
        await sleep(500);
        expect(await effects(id)).toBe(2);
      },
    );
  });

  it('flaw offset-dedupe: 2 effects for a message published twice', async () => {
    await withConsumer({ flaw: 'offset-dedupe' }, async ({ publish }) => {
      const id = uid('offset');
      await publish(id, { entity: uid('e') });
      await publish(id, { entity: uid('e') });
      await waitFor('2 effects', async () => (await effects(id)) === 2);
      await sleep(300);
      expect(await effects(id)).toBe(2);
    });
  });

  it('flaw poison-blocks: the messages behind a poison message on its partition wait', async () => {
    await withConsumer({ flaw: 'poison-blocks' }, async ({ consumer, publish }) => {
      const poison = uid('poison');
      await publish(poison, { no: 'entity' });
      const ids = Array.from({ length: 3 }, () => uid('behind'));
      for (const id of ids) await publish(id, { entity: uid('e') });
      await sleep(5000);
      expect(await effects(ids)).toBe(0);
      expect(consumer.deliveries(poison)).toBeGreaterThan(3);
      expect(await rowsOf('consumer_dead', 'message_id', poison)).toBe(0);
    });
  }, 30_000);

  it('flaw last-write-wins: the last event arrived wins', async () => {
    await withConsumer({ flaw: 'last-write-wins' }, async (run) => {
      expect(await stateAfterVersions(run, () => 0)).toEqual([{ version: 2 }]);
    });
  });
});
