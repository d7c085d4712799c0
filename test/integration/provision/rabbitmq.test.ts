import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, type Channel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { loopbackPortAccepts } from '../../../src/provision/port-probe.js';
import { ensureRabbitmq } from '../../../src/provision/rabbitmq-install.js';
import { startRabbitmq, type RabbitServer } from '../../../src/provision/rabbitmq.js';

/** What the private node's description names: its temp folder and its shell's pid. */
function nodeDetails(server: RabbitServer): { folder: string; pid: number; port: number } {
  const folder = /data in (\S+)/.exec(server.description)?.[1];
  const pid = Number(/\(pid (\d+)/.exec(server.description)?.[1]);
  const port = Number(new URL(server.url).port);
  if (folder === undefined || !Number.isInteger(pid)) {
    throw new Error(`unexpected description: ${server.description}`);
  }
  return { folder, pid, port };
}

/** Pids still in process group `pgid` (Linux /proc; empty elsewhere). */
function groupMembers(pgid: number): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // Gone while reading.
    }
  }
  return members;
}

/** Collects deliveries until `count` arrived or `timeoutMs` passed. */
function collect(
  channel: Channel,
  queue: string,
  count: number,
  onMessage: (message: ConsumeMessage, all: ConsumeMessage[]) => void,
  timeoutMs = 10_000,
): Promise<ConsumeMessage[]> {
  return new Promise((resolve, reject) => {
    const all: ConsumeMessage[] = [];
    const timer = setTimeout(
      () => reject(new Error(`only ${all.length} of ${count} deliveries in ${timeoutMs} ms`)),
      timeoutMs,
    );
    void channel
      .consume(queue, (message) => {
        if (message === null) return;
        all.push(message);
        onMessage(message, all);
        if (all.length === count) {
          clearTimeout(timer);
          resolve(all);
        }
      })
      .catch(reject);
  });
}

const timings: string[] = [];

describe('RabbitMQ provisioning', () => {
  let node: RabbitServer | undefined;

  beforeAll(async () => {
    const ensured = await ensureRabbitmq({ log: (line) => timings.push(line) });
    timings.push(
      `ensureRabbitmq: ${ensured.installed ? `installed in ${ensured.seconds.toFixed(1)} s` : 'already present'} (${ensured.server})`,
    );
    const started = Date.now();
    node = await startRabbitmq({
      env: { ...process.env, IDEMPROOF_RABBITMQ_URL: '', AMQP_URL: '' },
    });
    timings.push(`private node start: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  afterAll(async () => {
    await node?.stop();
    process.stdout.write(`RabbitMQ timings:\n  ${timings.join('\n  ')}\n`);
  });

  it('starts a private node on loopback that delivers, redelivers and acknowledges', async () => {
    if (node === undefined) throw new Error('no node');
    expect(node.embedded).toBe(true);
    expect(node.url).toMatch(/^amqp:\/\/guest:guest@127\.0\.0\.1:\d+$/);
    expect(node.description).not.toContain('guest:guest');

    const connection = await connect(node.url, { timeout: 5000 });
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(10);
      const { queue } = await channel.assertQueue('idemproof.orders', { durable: true });
      for (const id of ['m-1', 'm-2', 'm-3']) {
        channel.sendToQueue(queue, Buffer.from(JSON.stringify({ id })), {
          persistent: true,
          messageId: id,
          headers: { 'idempotency-key': `key-${id}`, tenant: 't1' },
        });
      }

      let nacked = false;
      const deliveries = await collect(channel, queue, 4, (message) => {
        if (message.properties.messageId === 'm-2' && !nacked) {
          nacked = true;
          channel.nack(message, false, true);
        } else {
          channel.ack(message);
        }
      });

      const first = deliveries.slice(0, 3);
      expect(first.map((message) => String(message.properties.messageId))).toEqual([
        'm-1',
        'm-2',
        'm-3',
      ]);
      for (const message of first) {
        expect(message.properties.deliveryMode).toBe(2);
        expect(message.fields.redelivered).toBe(false);
        expect(message.properties.headers).toMatchObject({
          'idempotency-key': `key-${String(message.properties.messageId)}`,
          tenant: 't1',
        });
      }
      const again = deliveries[3];
      expect(again?.properties.messageId).toBe('m-2');
      expect(again?.fields.redelivered).toBe(true);
      expect(JSON.parse(String(again?.content))).toEqual({ id: 'm-2' });

      const check = await channel.checkQueue(queue);
      expect(check.messageCount).toBe(0);
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it('uses a given URL and starts nothing; stop leaves that broker running', async () => {
    if (node === undefined) throw new Error('no node');
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith('idemproof-rabbitmq-'));
    const given = await startRabbitmq({ url: node.url });
    expect(given.embedded).toBe(false);
    expect(given.url).toBe(node.url);
    expect(given.description).toContain('existing RabbitMQ');
    const fromEnv = await startRabbitmq({ env: { IDEMPROOF_RABBITMQ_URL: node.url } });
    expect(fromEnv.embedded).toBe(false);
    const after = readdirSync(tmpdir()).filter((name) => name.startsWith('idemproof-rabbitmq-'));
    expect(after).toEqual(before);
    await given.stop();
    await fromEnv.stop();
    const connection = await connect(node.url, { timeout: 5000 });
    await connection.close();
  });

  it('reports an unreachable URL clearly, without its password', async () => {
    const error = await startRabbitmq({ url: 'amqp://app:s3cret-pass@127.0.0.1:1' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect((error as Error).message).toContain('amqp://app:***@127.0.0.1:1');
    expect((error as Error).message).not.toContain('s3cret-pass');
  });

  it('starts two nodes at once without collisions and stops each completely', async () => {
    const env = { ...process.env, IDEMPROOF_RABBITMQ_URL: '', AMQP_URL: '' };
    const started = Date.now();
    const [a, b] = await Promise.all([startRabbitmq({ env }), startRabbitmq({ env })]);
    timings.push(`two nodes at once: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const details = [nodeDetails(a), nodeDetails(b)];
    try {
      expect(details[0]?.port).not.toBe(details[1]?.port);
      expect(details[0]?.folder).not.toBe(details[1]?.folder);
      // Each node has its own data: a queue declared on one is absent on the other.
      const ca = await connect(a.url, { timeout: 5000 });
      const cb = await connect(b.url, { timeout: 5000 });
      try {
        const channelA = await ca.createChannel();
        await channelA.assertQueue('only-on-a');
        const channelB = await cb.createChannel();
        channelB.on('error', () => undefined);
        await expect(channelB.checkQueue('only-on-a')).rejects.toThrow(/NOT_FOUND/);
      } finally {
        await ca.close();
        await cb.close().catch(() => undefined);
      }
    } finally {
      const stopped = Date.now();
      await Promise.all([a.stop(), b.stop()]);
      timings.push(`two nodes stopped: ${((Date.now() - stopped) / 1000).toFixed(1)} s`);
    }
    for (const { folder, pid, port } of details) {
      expect(await loopbackPortAccepts(port)).toBe(false);
      expect(existsSync(folder)).toBe(false);
      expect(groupMembers(pid)).toEqual([]);
    }
    await a.stop(); // a second stop is harmless
  });
});
