import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { findFreePort } from '../../../src/provision/free-port.js';
import { installKafka } from '../../../src/provision/kafka-install.js';
import { runProducerPerf } from '../../../src/provision/kafka-perf.js';
import { startKafka, type KafkaServer } from '../../../src/provision/kafka.js';

/** The JVM is slow on two cores: one broker for the whole file. */
let server: KafkaServer | undefined;
const noBrokerEnv = { ...process.env, IDEMPROOF_KAFKA_URL: '', KAFKA_BOOTSTRAP: '' };

function broker(): KafkaServer {
  if (server === undefined) throw new Error('the broker did not start in beforeAll');
  return server;
}

/** Resolves true when something accepts a TCP connection on host:port. */
function accepts(bootstrap: string): Promise<boolean> {
  const [host = '', port = ''] = bootstrap.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function text(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]),
  );
}

describe('Kafka provisioning (real broker from the Maven Central jars)', () => {
  beforeAll(async () => {
    await installKafka();
    server = await startKafka({ env: noBrokerEnv });
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('starts an embedded KRaft broker on a loopback port', () => {
    expect(broker().embedded).toBe(true);
    expect(broker().bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(broker().description).toContain('embedded Kafka 4.');
  });

  it('carries keys, headers and values from an idempotent producer to a consumer group', async () => {
    const kafka = new Kafka({
      clientId: 'idemproof-test',
      brokers: [broker().bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const topic = 'idemproof-provision-test';
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: 'idemproof-provision-test-group' });
    try {
      await admin.connect();
      expect(
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }),
      ).toBe(true);
      await producer.connect();
      const sent = [1, 2, 3].map((n) => ({
        key: `order-${String(n)}`,
        value: JSON.stringify({ amount: n * 100 }),
        headers: { 'idempotency-key': `key-${String(n)}`, attempt: String(n) },
      }));
      await producer.send({ topic, acks: -1, messages: sent });

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: { key: string; value: string; headers: Record<string, string> }[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('3 messages not consumed in 30 s')),
          30_000,
        );
        void consumer.run({
          autoCommitThreshold: 1,
          eachMessage: ({ message }) => {
            received.push({
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              headers: text(message.headers),
            });
            if (received.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        });
      });
      expect(received).toEqual(sent);
      await consumer.disconnect(); // commits what it consumed
      const offsets = await admin.fetchOffsets({
        groupId: 'idemproof-provision-test-group',
        topics: [topic],
      });
      expect(offsets[0]?.partitions[0]?.offset).toBe('3');
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }, 60_000);

  it("runs Kafka's ProducerPerformance from the same jars", async () => {
    const perf = await runProducerPerf({
      bootstrap: broker().bootstrap,
      topic: 'idemproof-perf',
      records: 2000,
      recordSize: 100,
    });
    expect(perf.recordsPerSec).toBeGreaterThan(0);
    expect(perf.raw).toContain('2000 records sent');
  }, 120_000);

  it('with a URL, uses that broker and starts nothing', async () => {
    const existing = await startKafka({ url: `kafka://${broker().bootstrap}`, env: noBrokerEnv });
    expect(existing).toMatchObject({ bootstrap: broker().bootstrap, embedded: false });
    await existing.stop();
    expect(await accepts(broker().bootstrap)).toBe(true);
  });

  it('with a URL where no broker answers, fails with a broker error naming it', async () => {
    const bootstrap = `127.0.0.1:${String(await findFreePort())}`;
    let caught: unknown;
    try {
      await startKafka({ env: { ...noBrokerEnv, IDEMPROOF_KAFKA_URL: bootstrap } });
    } catch (error) {
      caught = error;
    }
    expect(isIdemproofError(caught) && caught.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect((caught as Error).message).toContain(bootstrap);
  }, 30_000);

  it('stop() ends the JVM, closes the port and removes the temporary folder', async () => {
    const { bootstrap, description } = broker();
    const folder = /data in (\S+)/.exec(description)?.[1] ?? '';
    expect(existsSync(folder)).toBe(true);
    await broker().stop();
    expect(await accepts(bootstrap)).toBe(false);
    expect(existsSync(folder)).toBe(false);
    await broker().stop(); // a second stop is harmless
  }, 60_000);
});
