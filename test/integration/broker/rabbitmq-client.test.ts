import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerClient } from '../../../src/broker/client.js';
import type { BrokerTarget, OutgoingMessage } from '../../../src/broker/types.js';
import { isIdemproofError } from '../../../src/errors.js';
import { ensureRabbitmq } from '../../../src/provision/rabbitmq-install.js';
import { startRabbitmq, type RabbitServer } from '../../../src/provision/rabbitmq.js';

const QUEUE = 'idemproof.client.orders';
const DLQ = 'idemproof.client.orders.dead';
const EXCHANGE = 'idemproof.client';
const ROUTING_KEY = 'orders';

let node: RabbitServer | undefined;
let plain: ChannelModel | undefined;
let channel: Channel | undefined;

function server(): RabbitServer {
  if (node === undefined) throw new Error('the broker did not start in beforeAll');
  return node;
}

function admin(): Channel {
  if (channel === undefined) throw new Error('no plain channel');
  return channel;
}

function target(overrides: Partial<Extract<BrokerTarget, { broker: 'rabbitmq' }>> = {}) {
  return {
    broker: 'rabbitmq' as const,
    url: server().url,
    exchange: EXCHANGE,
    routingKey: ROUTING_KEY,
    queue: QUEUE,
    deadLetterQueue: DLQ,
    ...overrides,
  };
}

function outgoing(id: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id,
    key: null,
    headers: { 'message-id': id, tenant: 't1' },
    body: Buffer.from(JSON.stringify({ entity: `e-${id}`, amount: 5 })),
    ...extra,
  };
}

/** Takes every message now on `queue` (acking them), waiting up to 5 s for `count`. */
async function drain(queue: string, count: number): Promise<GetMessage[]> {
  const all: GetMessage[] = [];
  const deadline = Date.now() + 5000;
  while (all.length < count && Date.now() < deadline) {
    const message = await admin().get(queue, { noAck: true });
    if (message === false) await new Promise((resolve) => setTimeout(resolve, 50));
    else all.push(message);
  }
  return all;
}

/** The message-id header of a message read back. */
function idOf(message: GetMessage): string {
  const id: unknown = message.properties.headers?.['message-id'];
  return String(id);
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

describe('RabbitMQ broker client (real broker)', () => {
  beforeAll(async () => {
    await ensureRabbitmq();
    node = await startRabbitmq({
      env: { ...process.env, IDEMPROOF_RABBITMQ_URL: '', AMQP_URL: '' },
    });
    plain = await connect(node.url, { timeout: 5000 });
    channel = await plain.createChannel();
    await channel.assertQueue(DLQ, { durable: true });
    await channel.assertQueue(QUEUE, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': DLQ },
    });
    await channel.assertExchange(EXCHANGE, 'direct', { durable: true });
    await channel.bindQueue(QUEUE, EXCHANGE, ROUTING_KEY);
  }, 600_000);

  afterAll(async () => {
    await plain?.close().catch(() => undefined);
    await node?.stop();
  }, 60_000);

  it('publishes persistent messages with headers and messageId, confirmed, and says where', async () => {
    const client = await createBrokerClient(target());
    try {
      expect(client.description).toContain(`exchange ${EXCHANGE}, routing key ${ROUTING_KEY}`);
      expect(client.description).toContain('127.0.0.1');
      expect(client.description).not.toContain('guest:guest');
      expect(await client.partitions()).toBe(1);
      const sent = ['r-1', 'r-2', 'r-3'].map((id) => outgoing(id, { messageIdProperty: id }));
      const receipts = await Promise.all(sent.map((message) => client.publish(message)));
      for (const receipt of receipts) {
        expect(receipt).toEqual({
          ok: true,
          where: `exchange ${EXCHANGE}, routing key ${ROUTING_KEY}`,
        });
      }
      const poison = await client.publish(outgoing('r-4', { body: Buffer.from('not json {') }));
      expect(poison.ok).toBe(true);

      const got = await drain(QUEUE, 4);
      expect(got.map((message) => idOf(message))).toEqual(['r-1', 'r-2', 'r-3', 'r-4']);
      for (const [index, message] of got.slice(0, 3).entries()) {
        const id = `r-${String(index + 1)}`;
        expect(message.properties.messageId).toBe(id);
        expect(message.properties.deliveryMode).toBe(2);
        expect(message.properties.contentType).toBe('application/json');
        expect(message.properties.headers).toMatchObject({ 'message-id': id, tenant: 't1' });
        expect(JSON.parse(message.content.toString())).toEqual({ entity: `e-${id}`, amount: 5 });
      }
      expect(got[3]?.properties.contentType).toBeUndefined();
      expect(got[3]?.properties.messageId).toBeUndefined();
      expect(got[3]?.content.toString()).toBe('not json {');
    } finally {
      await client.close();
    }
  });

  it('on the default exchange, says so; an unroutable publish is not ok', async () => {
    const direct = await createBrokerClient(target({ exchange: '', routingKey: QUEUE }));
    const nowhere = await createBrokerClient(target({ routingKey: 'bound-to-nothing' }));
    try {
      expect(await direct.publish(outgoing('d-1'))).toEqual({
        ok: true,
        where: `default exchange, routing key ${QUEUE}`,
      });
      const lost = await nowhere.publish(outgoing('d-2'));
      expect(lost.ok).toBe(false);
      expect(lost.error).toMatch(/unroutable.*bound-to-nothing/);
      // The channel survives: the next publish through it is confirmed as usual.
      expect((await direct.publish(outgoing('d-3'))).ok).toBe(true);
      const got = await drain(QUEUE, 2);
      expect(got.map((message) => idOf(message))).toEqual(['d-1', 'd-3']);
    } finally {
      await direct.close();
      await nowhere.close();
    }
  });

  it('deadLetter then replayDeadLetters moves exactly the wanted ids and leaves the rest', async () => {
    const client = await createBrokerClient(target());
    try {
      await client.deadLetter(['x-1', 'x-2', 'x-3', 'x-4'].map((id) => outgoing(id)));
      expect((await admin().checkQueue(DLQ)).messageCount).toBe(4);

      const started = Date.now();
      const moved = await client.replayDeadLetters(
        ['x-3', 'x-1'],
        { header: 'message-id' },
        10_000,
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(moved).toEqual(['x-1', 'x-3']);

      const back = await drain(QUEUE, 2);
      expect(back.map((message) => idOf(message))).toEqual(['x-1', 'x-3']);
      expect(back[0]?.properties.headers).toMatchObject({ tenant: 't1' });
      expect(back[0]?.properties.deliveryMode).toBe(2);
      expect(JSON.parse(String(back[1]?.content))).toEqual({ entity: 'e-x-3', amount: 5 });
      expect((await admin().checkQueue(DLQ)).messageCount).toBe(2);

      // A wanted id that never comes: the replay waits out its timeout and moves what it found.
      const partial = await client.replayDeadLetters(
        ['x-2', 'never'],
        { header: 'message-id' },
        1500,
      );
      expect(partial).toEqual(['x-2']);
      const left = await drain(DLQ, 1);
      expect(left.map((message) => idOf(message))).toEqual(['x-4']);
      expect((await drain(QUEUE, 1)).map((m) => idOf(m))).toEqual(['x-2']);
    } finally {
      await client.close();
    }
  });

  it('findDeadLetters says which ids are on the dead-letter queue and moves none', async () => {
    const client = await createBrokerClient(target());
    try {
      await client.deadLetter(['f-1', 'f-2', 'f-3'].map((id) => outgoing(id)));
      expect((await admin().checkQueue(DLQ)).messageCount).toBe(3);

      const started = Date.now();
      const found = await client.findDeadLetters(
        ['f-3', 'f-1', 'absent'],
        { header: 'message-id' },
        500,
      );
      const waited = Date.now() - started;
      expect(found).toEqual(['f-1', 'f-3']);
      expect(waited).toBeGreaterThanOrEqual(450);
      expect((await admin().checkQueue(DLQ)).messageCount).toBe(3);
      // All of them there: it answers without waiting out its timeout.
      const quick = Date.now();
      expect(await client.findDeadLetters(['f-2'], { header: 'message-id' }, 10_000)).toEqual([
        'f-2',
      ]);
      const fast = Date.now() - quick;
      process.stdout.write(
        `RabbitMQ findDeadLetters: ${String(waited)} ms with an absent id (timeout 500), ` +
          `${String(fast)} ms when all are there\n`,
      );
      expect(fast).toBeLessThan(5000);

      // Nothing was removed: a replay still finds and moves them.
      expect(
        await client.replayDeadLetters(['f-1', 'f-3'], { header: 'message-id' }, 5000),
      ).toEqual(['f-1', 'f-3']);
      expect((await drain(QUEUE, 2)).map((message) => idOf(message))).toEqual(['f-1', 'f-3']);
      expect((await drain(DLQ, 1)).map((message) => idOf(message))).toEqual(['f-2']);
    } finally {
      await client.close();
    }
  });

  it('replays by the messageId property and by a body field', async () => {
    const client = await createBrokerClient(target());
    try {
      await client.deadLetter([
        outgoing('p-1', { messageIdProperty: 'p-1' }),
        outgoing('p-2', { messageIdProperty: 'p-2' }),
      ]);
      expect(await client.replayDeadLetters(['p-2'], { property: 'messageId' }, 5000)).toEqual([
        'p-2',
      ]);
      expect(await client.replayDeadLetters(['e-p-1'], { field: 'entity' }, 5000)).toEqual([
        'e-p-1',
      ]);
      const back = await drain(QUEUE, 2);
      expect(back.map((message) => String(message.properties.messageId))).toEqual(['p-2', 'p-1']);
      expect((await admin().checkQueue(DLQ)).messageCount).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('a missing queue, dead-letter queue or exchange fails clearly, before any traffic', async () => {
    const queue = await caught(createBrokerClient(target({ queue: 'no.such.queue' })));
    expect(isIdemproofError(queue) && queue.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect(queue.message).toContain("queue 'no.such.queue' does not exist on RabbitMQ at");
    expect(queue.message).toContain('start the consumer first, or declare it');
    expect(queue.message).not.toContain('guest:guest');

    const dlq = await caught(createBrokerClient(target({ deadLetterQueue: 'no.such.dlq' })));
    expect(dlq.message).toContain("queue 'no.such.dlq' does not exist");

    const exchange = await caught(createBrokerClient(target({ exchange: 'no.such.exchange' })));
    expect(exchange.message).toContain("exchange 'no.such.exchange' does not exist");

    const nowhere = await caught(
      createBrokerClient(target({ url: 'amqp://app:s3cret@127.0.0.1:1' })),
    );
    expect(isIdemproofError(nowhere) && nowhere.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect(nowhere.message).toContain('amqp://app:***@127.0.0.1:1');
    expect(nowhere.message).not.toContain('s3cret');
  });

  it('without a dead-letter queue, deadLetter says what to set', async () => {
    const client = await createBrokerClient(target({ deadLetterQueue: undefined }));
    try {
      const error = await caught(client.deadLetter([outgoing('z-1')]));
      expect(error.message).toContain('deadLetterQueue');
    } finally {
      await client.close();
    }
  });
});
