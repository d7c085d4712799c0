import {
  connect,
  type ChannelModel,
  type ConfirmChannel,
  type GetMessage,
  type Message,
  type Options,
} from 'amqplib';
import { IdemproofError, describeError } from '../errors.js';
import { redactAmqpUrl } from '../provision/rabbitmq-locate.js';
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
 * The RabbitMQ side of a consumer scenario: one AMQP connection and a confirm channel that
 * publishes persistent messages and waits for the broker's confirm, copies messages onto the
 * dead-letter queue, replays chosen dead letters back to the main exchange, and finds dead
 * letters without moving them (got, then nacked back with requeue).
 *
 * Must not: consume from the consumer's queue, ack a dead letter before its copy is confirmed
 * on the main exchange, drop a dead letter it was not asked to move (they are nacked back with
 * requeue), or print the password of the AMQP URL.
 */

type RabbitmqTarget = Extract<BrokerTarget, { broker: 'rabbitmq' }>;

const CONFIRM_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 5000;
/** How long the replay waits before asking an empty dead-letter queue again. */
const EMPTY_POLL_MS = 100;
/** The most dead letters a replay or find holds unacknowledged while it looks for wanted ones. */
const REPLAY_MAX_HELD = 10_000;

/** Connects, checks the queue (and the dead-letter queue and exchange) exist, and returns a client. */
export async function createRabbitmqClient(target: RabbitmqTarget): Promise<BrokerClient> {
  const where = redactAmqpUrl(target.url);
  let connection: ChannelModel;
  try {
    connection = await connect(target.url, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `cannot connect to RabbitMQ at ${where}: ${describeError(error)}. Start the broker or ` +
        `fix the scenario's broker url.`,
      { cause: error },
    );
  }
  connection.on('error', () => undefined);
  try {
    await checkExists(connection, 'queue', target.queue, where);
    if (target.deadLetterQueue !== undefined) {
      await checkExists(connection, 'queue', target.deadLetterQueue, where);
    }
    if (target.exchange !== '') await checkExists(connection, 'exchange', target.exchange, where);
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  return new RabbitmqClient(target, connection, where);
}

/** checkQueue / checkExchange on a throwaway channel: a missing one closes that channel. */
async function checkExists(
  connection: ChannelModel,
  kind: 'queue' | 'exchange',
  name: string,
  where: string,
): Promise<void> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    if (kind === 'queue') await channel.checkQueue(name);
    else await channel.checkExchange(name);
  } catch (error) {
    const missing = /NOT_FOUND|404/.test(describeError(error));
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      missing
        ? `${kind} '${name}' does not exist on RabbitMQ at ${where}; start the consumer first, ` +
            `or declare it`
        : `cannot check ${kind} '${name}' on RabbitMQ at ${where}: ${describeError(error)}`,
      { cause: error },
    );
  }
  await channel.close().catch(() => undefined);
}

/** The AMQP properties of an outgoing message. */
function publishOptions(message: OutgoingMessage): Options.Publish {
  return {
    persistent: true,
    mandatory: true,
    headers: { ...message.headers },
    ...(message.messageIdProperty === undefined ? {} : { messageId: message.messageIdProperty }),
    ...(isJson(message.body) ? { contentType: 'application/json' } : {}),
  };
}

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** The properties of a dead letter to publish it again unchanged (not its expiry or user). */
function republishOptions(message: Message): Options.Publish {
  const p = message.properties as unknown as Record<string, unknown>;
  const copied: Record<string, unknown> = { mandatory: true };
  for (const name of [
    'contentType',
    'contentEncoding',
    'headers',
    'deliveryMode',
    'priority',
    'correlationId',
    'replyTo',
    'messageId',
    'timestamp',
    'type',
    'appId',
  ]) {
    if (p[name] !== undefined && p[name] !== null) copied[name] = p[name];
  }
  return copied;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class RabbitmqClient implements BrokerClient {
  readonly description: string;
  private channel: Promise<ConfirmChannel> | undefined;
  /** Messages the broker returned as unroutable, until the confirm of their publish claims them. */
  private readonly returned: Message[] = [];
  private closed = false;

  constructor(
    private readonly target: RabbitmqTarget,
    private readonly connection: ChannelModel,
    where: string,
  ) {
    const destination =
      target.exchange === ''
        ? `default exchange, routing key ${target.routingKey}`
        : `exchange ${target.exchange}, routing key ${target.routingKey}`;
    this.description = `RabbitMQ at ${where}, ${destination}`;
  }

  partitions(): Promise<number> {
    return Promise.resolve(1);
  }

  async publish(message: OutgoingMessage): Promise<PublishReceipt> {
    const where =
      this.target.exchange === ''
        ? `default exchange, routing key ${this.target.routingKey}`
        : `exchange ${this.target.exchange}, routing key ${this.target.routingKey}`;
    try {
      const channel = await this.confirmChannel();
      await this.confirmed(
        channel,
        this.target.exchange,
        this.target.routingKey,
        message.body,
        publishOptions(message),
      );
      return { ok: true, where };
    } catch (error) {
      return { ok: false, where, error: describeError(error) };
    }
  }

  async publishMany(messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]> {
    const where =
      this.target.exchange === ''
        ? `default exchange, routing key ${this.target.routingKey}`
        : `exchange ${this.target.exchange}, routing key ${this.target.routingKey}`;
    let channel: ConfirmChannel;
    try {
      channel = await this.confirmChannel();
    } catch (error) {
      const failed = { ok: false, where, error: describeError(error) };
      return messages.map(() => failed);
    }
    // Every message goes out before the first confirm is awaited.
    return Promise.all(
      messages.map((message) =>
        this.confirmed(
          channel,
          this.target.exchange,
          this.target.routingKey,
          message.body,
          publishOptions(message),
        ).then(
          (): PublishReceipt => ({ ok: true, where }),
          (error: unknown): PublishReceipt => ({ ok: false, where, error: describeError(error) }),
        ),
      ),
    );
  }

  async deadLetter(messages: readonly OutgoingMessage[]): Promise<void> {
    const queue = this.deadLetterQueue();
    const channel = await this.confirmChannel();
    try {
      await Promise.all(
        messages.map((message) =>
          this.confirmed(channel, '', queue, message.body, publishOptions(message)),
        ),
      );
    } catch (error) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `could not put ${String(messages.length)} message(s) on dead-letter queue '${queue}' ` +
          `(${this.description}): ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  async replayDeadLetters(
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
  ): Promise<string[]> {
    const queue = this.deadLetterQueue();
    return this.scanDeadLetters(
      queue,
      ids,
      idPlace,
      timeoutMs,
      async (channel, message, id, moved) => {
        try {
          await this.confirmed(
            channel,
            this.target.exchange,
            this.target.routingKey,
            message.content,
            republishOptions(message),
          );
        } catch (error) {
          try {
            channel.nack(message, false, true);
          } catch {
            // The channel is gone: closing it returned the message to the queue already.
          }
          throw new IdemproofError(
            'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
            `replaying dead letter '${id}' from '${queue}' to ${this.description} failed ` +
              `(it stays on the dead-letter queue; moved so far: ${moved.join(', ') || 'none'}): ` +
              describeError(error),
            { cause: error },
          );
        }
        channel.ack(message);
        return true;
      },
    );
  }

  async findDeadLetters(
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
  ): Promise<string[]> {
    const queue = this.deadLetterQueue();
    const found = await this.scanDeadLetters(queue, ids, idPlace, timeoutMs, () =>
      Promise.resolve(false),
    );
    return [...new Set(found)];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const channel = this.channel;
    this.channel = undefined;
    if (channel !== undefined) {
      await withTimeout(
        channel.then((open) => open.close()),
        CLOSE_TIMEOUT_MS,
      ).catch(() => undefined);
    }
    await withTimeout(this.connection.close(), CLOSE_TIMEOUT_MS).catch(() => undefined);
  }

  /**
   * Gets dead letters from `queue` on a channel of its own until every id in `ids` was seen,
   * the timeout passed, or REPLAY_MAX_HELD are held, and hands each wanted one to `take`: true
   * when `take` acked it, false to leave it. Every message not taken is nacked back with
   * requeue (closing the channel returns any still held). Returns the wanted ids in the order
   * they came (twice if a dead letter was there twice).
   */
  private async scanDeadLetters(
    queue: string,
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
    take: (
      channel: ConfirmChannel,
      message: GetMessage,
      id: string,
      taken: readonly string[],
    ) => Promise<boolean>,
  ): Promise<string[]> {
    const tally = new DeadLetterTally(ids);
    const held: GetMessage[] = [];
    // Its own channel: closing it returns anything still unacknowledged to the queue.
    const channel = await this.connection.createConfirmChannel();
    channel.on('error', () => undefined);
    channel.on('return', (message: Message) => this.returned.push(message));
    const deadline = Date.now() + timeoutMs;
    try {
      while (!tally.complete && Date.now() < deadline && held.length < REPLAY_MAX_HELD) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) {
          await sleep(Math.min(EMPTY_POLL_MS, Math.max(0, deadline - Date.now())));
          continue;
        }
        const id = messageIdOf(idPlace, {
          headers: message.properties.headers,
          body: message.content,
          messageIdProperty: message.properties.messageId as string | undefined,
        });
        if (!tally.wants(id)) {
          held.push(message);
          continue;
        }
        if (!(await take(channel, message, id, tally.found))) held.push(message);
        tally.take(id);
      }
      for (const message of held) channel.nack(message, false, true);
      held.length = 0;
    } finally {
      await withTimeout(channel.close(), CLOSE_TIMEOUT_MS).catch(() => undefined);
    }
    return tally.found;
  }

  private deadLetterQueue(): string {
    const queue = this.target.deadLetterQueue;
    if (queue === undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_SCENARIO',
        `no dead-letter queue for ${this.description}: set the target's deadLetterQueue ` +
          `to the queue the consumer's failures land in`,
      );
    }
    return queue;
  }

  /** The publishing channel, opened again if the broker closed it (say, a publish error). */
  private confirmChannel(): Promise<ConfirmChannel> {
    if (this.closed) {
      return Promise.reject(new Error(`the client of ${this.description} is closed`));
    }
    if (this.channel === undefined) {
      const opening = this.connection.createConfirmChannel().then((channel) => {
        channel.on('error', () => undefined);
        channel.on('return', (message: Message) => this.returned.push(message));
        channel.on('close', () => {
          if (this.channel === opening) this.channel = undefined;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.channel === opening) this.channel = undefined;
      });
      this.channel = opening;
    }
    return this.channel;
  }

  /**
   * Publishes and waits (bounded) for the broker's confirm. A message the broker returned as
   * unroutable (its `basic.return` comes before its confirm) counts as a failure.
   */
  private async confirmed(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    const confirm = new Promise<void>((resolve, reject) => {
      channel.publish(exchange, routingKey, body, options, (error: unknown) => {
        if (error === null || error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error('the broker nacked the message'));
      });
    });
    await withTimeout(confirm, CONFIRM_TIMEOUT_MS, 'no publisher confirm');
    const index = this.returned.findIndex(
      (message) =>
        message.content.equals(body) &&
        message.properties.messageId === options.messageId &&
        message.fields.routingKey === routingKey,
    );
    if (index >= 0) {
      this.returned.splice(index, 1);
      throw new Error(
        `unroutable: ${exchange === '' ? 'the default exchange' : `exchange '${exchange}'`} ` +
          `has no queue bound for routing key '${routingKey}'`,
      );
    }
  }
}
