import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDemoConsumer } from '../../../src/demo/consumer/consumer.js';
import type { DemoConsumer, DemoConsumerOptions } from '../../../src/demo/consumer/types.js';
import { isIdemproofError } from '../../../src/errors.js';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { ensureRabbitmq } from '../../../src/provision/rabbitmq-install.js';
import { startRabbitmq, type RabbitServer } from '../../../src/provision/rabbitmq.js';
import { consumerDb, need, sleep, uid } from '../../support/consumer-db.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * The RabbitMQ demo consumer against a private RabbitMQ node and the shared PostgreSQL: the
 * correct consumer processes each message id once, and each flaw misbehaves as it says.
 */

let node: RabbitServer | undefined;
let publisher: ChannelModel | undefined;
let channel: ConfirmChannel | undefined;
let database: TestDatabase | undefined;

const { waitFor, rowsOf, effects } = consumerDb(() => database, 15_000);

interface Run {
  readonly consumer: DemoConsumer;
  readonly queue: string;
  readonly deadLetterQueue: string;
  readonly lines: string[];
  readonly publish: (id: string | undefined, body: unknown) => Promise<void>;
}

/** Publishes versions 3, 1, 2 of one entity; its state once all 3 are processed. */
async function stateAfterVersions(run: Run) {
  const entity = uid('order');
  for (const version of [3, 1, 2]) {
    await run.publish(`${entity}-v${String(version)}`, {
      entity,
      version,
      status: `s${String(version)}`,
    });
  }
  await waitFor(
    '3 effects',
    async () => (await rowsOf('consumer_effects', 'entity', entity)) === 3,
  );
  return need(database, 'db').query<{ version: number; status: string }>(
    'SELECT version, status FROM consumer_state WHERE entity = $1',
    [entity],
  );
}

/** Starts a consumer on fresh queues, runs `body`, stops it. */
async function withConsumer(
  options: Partial<Omit<DemoConsumerOptions, 'broker' | 'databaseUrl'>> & { url?: string },
  body: (run: Run) => Promise<void>,
): Promise<void> {
  const queue = uid('orders');
  const deadLetterQueue = `${queue}.dead`;
  const lines: string[] = [];
  const { url, ...rest } = options;
  const consumer = await startDemoConsumer({
    broker: { kind: 'rabbitmq', url: url ?? need(node, 'RabbitMQ').url, queue, deadLetterQueue },
    databaseUrl: need(database, 'the database').url,
    log: (line) => lines.push(line),
    ...rest,
  });
  try {
    await consumer.ready;
    await body({
      consumer,
      queue,
      deadLetterQueue,
      lines,
      publish: async (id, payload) => {
        const confirm = need(channel, 'the publisher');
        confirm.sendToQueue(
          queue,
          Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
          { persistent: true, headers: id === undefined ? {} : { 'message-id': id } },
        );
        await confirm.waitForConfirms();
      },
    });
  } finally {
    await consumer.stop();
  }
}

describe('RabbitMQ demo consumer', () => {
  beforeAll(async () => {
    await ensureRabbitmq();
    node = await startRabbitmq({
      env: { ...process.env, IDEMPROOF_RABBITMQ_URL: '', AMQP_URL: '' },
    });
    publisher = await connect(node.url, { timeout: 5000 });
    channel = await publisher.createConfirmChannel();
    database = await createTestDatabase(inject('databaseUrl'));
  }, 600_000);

  afterAll(async () => {
    await publisher?.close().catch(() => undefined);
    await node?.stop();
    await database?.drop();
  }, 60_000);

  it('processes a message published 3 times once', async () => {
    await withConsumer({}, async ({ consumer, publish }) => {
      const id = uid('dup');
      for (let n = 0; n < 3; n += 1) await publish(id, { entity: uid('e'), amount: 5 });
      await waitFor('3 deliveries', () => Promise.resolve(consumer.deliveries(id) === 3));
      await sleep(300);
      expect(await effects(id)).toBe(1);
    });
  });

  it('processes 5 messages once each, all in the inbox', async () => {
    await withConsumer({}, async ({ publish }) => {
      const ids = Array.from({ length: 5 }, () => uid('each'));
      for (const id of ids) await publish(id, { entity: uid('e'), amount: 1 });
      await waitFor('5 effects', async () => (await effects(ids)) === 5);
      await sleep(300);
      expect(await effects(ids)).toBe(5);
      expect(await rowsOf('consumer_inbox', 'message_id', ids)).toBe(5);
    });
  });

  it('keeps the highest version of shuffled events', async () => {
    await withConsumer({}, async (run) => {
      expect(await stateAfterVersions(run)).toEqual([{ version: 3, status: 's3' }]);
    });
  });

  it('dead-letters a poison message after 3 deliveries and processes the ones behind it', async () => {
    await withConsumer({}, async ({ consumer, publish, deadLetterQueue }) => {
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
      const dead = await need(channel, 'publisher').get(deadLetterQueue, { noAck: true });
      expect(dead && dead.properties.headers?.['message-id']).toBe(poison);
      expect(dead && dead.content.toString()).toBe('not json {');
    });
  });

  it.each(['no-inbox', 'inbox-after-effect'] as const)(
    'flaw %s: 3 effects for a message published 3 times',
    async (flaw) => {
      await withConsumer({ flaw }, async ({ consumer, publish }) => {
        const id = uid(flaw);
        for (let n = 0; n < 3; n += 1) await publish(id, { entity: uid('e') });
        await waitFor('3 effects', async () => (await effects(id)) === 3);
        await sleep(300);
        expect(await effects(id)).toBe(3);
        expect(consumer.deliveries(id)).toBe(3);
      });
    },
  );

  it('flaw inbox-outside-transaction: 2 effects for a message published twice back to back', async () => {
    await withConsumer(
      { flaw: 'inbox-outside-transaction', processingMs: 200 },
      async ({ publish }) => {
        const id = uid('outside');
        await publish(id, { entity: uid('e') });
        await publish(id, { entity: uid('e') });
        await waitFor('2 effects', async () => (await effects(id)) === 2);
        await sleep(500);
        expect(await effects(id)).toBe(2);
      },
    );
  });

  it('flaw poison-blocks: the messages behind a poison message wait', async () => {
    await withConsumer({ flaw: 'poison-blocks', instances: 1 }, async ({ consumer, publish }) => {
      const poison = uid('poison');
      await publish(poison, { no: 'entity' });
      const ids = Array.from({ length: 3 }, () => uid('behind'));
      for (const id of ids) await publish(id, { entity: uid('e') });
      await sleep(5000);
      expect(await effects(ids)).toBe(0);
      expect(consumer.deliveries(poison)).toBeGreaterThan(3);
      expect(await rowsOf('consumer_dead', 'message_id', poison)).toBe(0);
    });
  }, 20_000);

  it('flaw last-write-wins: the last event arrived wins', async () => {
    await withConsumer({ flaw: 'last-write-wins', instances: 1 }, async (run) => {
      expect(await stateAfterVersions(run)).toEqual([{ version: 2, status: 's2' }]);
    });
  });

  it('refuses offset-dedupe, and a queue declared with other arguments, clearly', async () => {
    const base = {
      broker: {
        kind: 'rabbitmq',
        url: need(node, 'RabbitMQ').url,
        queue: uid('q'),
        deadLetterQueue: uid('d'),
      },
      databaseUrl: need(database, 'db').url,
    } as const;
    const offset = await startDemoConsumer({ ...base, flaw: 'offset-dedupe' }).catch(
      (e: unknown) => e,
    );
    expect(isIdemproofError(offset) && offset.code).toBe('IDEMPROOF_ERR_USAGE');
    expect((offset as Error).message).toMatch(/Kafka only/);

    const plain = uid('plain');
    await need(channel, 'publisher').assertQueue(plain, { durable: true });
    const mismatch = await startDemoConsumer({
      ...base,
      broker: { ...base.broker, queue: plain },
    }).catch((e: unknown) => e);
    expect(isIdemproofError(mismatch) && mismatch.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect((mismatch as Error).message).toContain(`'${plain}'`);
    expect((mismatch as Error).message).toMatch(/other arguments/);
  });

  it('reconnects after its connection is cut and processes what comes after', async () => {
    const toxiproxy = new ToxiproxyApi(inject('toxiproxyUrl'));
    const broker = new URL(need(node, 'RabbitMQ').url);
    const proxy = await toxiproxy.createProxy({
      name: uid('consumer_amqp'),
      upstream: `127.0.0.1:${broker.port}`,
    });
    const setEnabled = async (enabled: boolean) => {
      const response = await fetch(`${toxiproxy.url}/proxies/${proxy.name}`, {
        method: 'POST',
        body: JSON.stringify({ enabled }),
      });
      expect(response.status).toBe(200);
      await response.text();
    };
    try {
      const lane = new URL(broker);
      lane.port = String(proxy.port);
      await withConsumer({ url: lane.toString() }, async ({ lines, publish }) => {
        const before = uid('before');
        await publish(before, { entity: uid('e') });
        await waitFor('the message before the cut', async () => (await effects(before)) === 1);
        await setEnabled(false);
        await sleep(1000);
        await setEnabled(true);
        const after = uid('after');
        await publish(after, { entity: uid('e') });
        await waitFor('the message after the cut', async () => (await effects(after)) === 1);
        expect(lines.some((line) => line.includes('reconnecting'))).toBe(true);
      });
    } finally {
      await toxiproxy.removeProxy(proxy.name);
    }
  });
});
