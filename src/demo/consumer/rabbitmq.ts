import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { IdemproofError, describeError } from '../../errors.js';
import { redactAmqpUrl } from '../../provision/rabbitmq-locate.js';
import type { Delivery, Processor } from './process.js';

/**
 * The RabbitMQ side of a demo consumer: declares the queue and its dead-letter queue, then runs
 * `instances` competing consumers (one connection and one channel each, prefetch 1, manual
 * ack) that hand every delivery to the shared processor, and reconnect after a cut.
 *
 * Must not: publish anything, purge or delete a queue, or give up reconnecting before `stop()`.
 */

export interface RabbitConsumerOptions {
  readonly url: string;
  readonly queue: string;
  readonly deadLetterQueue: string;
  readonly instances: number;
  readonly processor: Processor;
  readonly log: (line: string) => void;
}

export interface BrokerConsumers {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 1000;
/** Seconds between AMQP heartbeats: a blackholed lane is noticed after two missed ones. */
const HEARTBEAT_S = 5;

/** `url` with a heartbeat, unless it asks for one itself. */
function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('heartbeat')) return url;
  parsed.searchParams.set('heartbeat', String(HEARTBEAT_S));
  return parsed.toString();
}

/** The message id: the `message-id` header, else the AMQP messageId property. */
function messageIdOf(message: ConsumeMessage): string | undefined {
  const header: unknown = message.properties.headers?.['message-id'];
  if (typeof header === 'string') return header;
  if (Buffer.isBuffer(header)) return header.toString('utf8');
  const property: unknown = message.properties.messageId;
  return typeof property === 'string' ? property : undefined;
}

/** amqplib throws synchronously on a closed channel: the processor gets a rejection instead. */
function asPromise(action: () => void): Promise<void> {
  return new Promise((resolve) => {
    action();
    resolve();
  });
}

/** Declares the dead-letter queue and the queue (durable, dead-lettering to the first). */
async function declareQueues(options: RabbitConsumerOptions): Promise<void> {
  const where = `RabbitMQ at ${redactAmqpUrl(options.url)}`;
  let model: ChannelModel;
  try {
    model = await connect(options.url, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `demo consumer: cannot connect to ${where}: ${describeError(error)}. ` +
        'Start the broker or pass the URL of one that runs.',
      { cause: error },
    );
  }
  model.on('error', () => undefined);
  try {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    await channel.assertQueue(options.deadLetterQueue, { durable: true });
    await channel.assertQueue(options.queue, {
      durable: true,
      arguments: {
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': options.deadLetterQueue,
      },
    });
    await channel.close();
  } catch (error) {
    const text = describeError(error);
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      /PRECONDITION_FAILED|inequivalent arg/i.test(text)
        ? `demo consumer: queue '${options.queue}' or '${options.deadLetterQueue}' on ${where} ` +
            `exists with other arguments (${text}). The consumer declares '${options.queue}' ` +
            `durable with x-dead-letter-exchange '' and x-dead-letter-routing-key ` +
            `'${options.deadLetterQueue}': delete the queue or use another name.`
        : `demo consumer: declaring queues on ${where} failed: ${text}`,
      { cause: error },
    );
  } finally {
    await model.close().catch(() => undefined);
  }
}

/** One competing consumer that reconnects with a backoff until stopped. */
function runInstance(
  index: number,
  options: RabbitConsumerOptions,
  onConsuming: () => void,
): { stop(): Promise<void> } {
  const { log, processor } = options;
  let stopped = false;
  let model: ChannelModel | undefined;
  let backoff = BACKOFF_MIN_MS;
  let timer: NodeJS.Timeout | undefined;
  const name = `consumer ${String(index + 1)}`;

  const settleOn = (channel: Channel, message: ConsumeMessage) => ({
    done: () => asPromise(() => channel.ack(message)),
    retry: () => asPromise(() => channel.nack(message, false, true)),
    deadLetter: () => asPromise(() => channel.nack(message, false, false)),
  });

  function reconnectLater(reason: string): void {
    if (stopped || timer !== undefined) return;
    log(`${name}: ${reason}; reconnecting in ${String(backoff)} ms`);
    timer = setTimeout(() => {
      timer = undefined;
      void attach();
    }, backoff);
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  }

  async function attach(): Promise<void> {
    if (stopped) return;
    let current: ChannelModel | undefined;
    try {
      current = await connect(withHeartbeat(options.url), { timeout: CONNECT_TIMEOUT_MS });
      model = current;
      const connection = current;
      connection.on('error', (error: unknown) => {
        log(`${name}: connection error: ${describeError(error)}`);
      });
      connection.on('close', () => {
        if (model === connection) model = undefined;
        reconnectLater('connection closed');
      });
      const channel = await connection.createChannel();
      channel.on('error', (error: unknown) => {
        log(`${name}: channel error: ${describeError(error)}`);
      });
      channel.on('close', () => {
        void connection.close().catch(() => undefined);
      });
      await channel.prefetch(1);
      await channel.consume(
        options.queue,
        (message) => {
          if (message === null) {
            // Cancelled by the broker (queue deleted): start over.
            void connection.close().catch(() => undefined);
            return;
          }
          const delivery: Delivery = { messageId: messageIdOf(message), body: message.content };
          void processor.handle(delivery, settleOn(channel, message));
        },
        { noAck: false },
      );
      if (stopped) {
        await connection.close().catch(() => undefined);
        return;
      }
      backoff = BACKOFF_MIN_MS;
      onConsuming();
    } catch (error) {
      if (current !== undefined) await current.close().catch(() => undefined);
      reconnectLater(`cannot consume: ${describeError(error)}`);
    }
  }

  void attach();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await model?.close().catch(() => undefined);
    },
  };
}

/**
 * Declares the queues (a queue that exists with other arguments is an error that says so),
 * then starts the consumers; `ready` resolves once each consumes.
 */
export async function startRabbitConsumers(
  options: RabbitConsumerOptions,
): Promise<BrokerConsumers> {
  await declareQueues(options);
  let consuming = 0;
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  const consumed = new Set<number>();
  const instances = Array.from({ length: options.instances }, (_, index) =>
    runInstance(index, options, () => {
      if (consumed.has(index)) return;
      consumed.add(index);
      consuming += 1;
      if (consuming === options.instances) resolveReady();
    }),
  );
  return {
    ready,
    async stop() {
      await Promise.all(instances.map((instance) => instance.stop()));
    },
  };
}
