import { createHash } from 'node:crypto';
import type pg from 'pg';
import { describeError } from '../../errors.js';
import type { ConsumerFlaw } from './types.js';

/**
 * What a demo consumer does with one delivery, the same for RabbitMQ and Kafka: parse it,
 * count and dead-letter poison messages, and apply a valid message's effect and state in
 * PostgreSQL behind the inbox, or with one flaw of `types.ts`. The broker side only says how to
 * settle a delivery (`Settlement`).
 *
 * Must not: talk to a broker itself, or settle a delivery before its effect is committed
 * (except where a flaw says so).
 */

/** One delivery as the broker handed it over. */
export interface Delivery {
  /** The `message-id` header; undefined when the message has none. */
  readonly messageId: string | undefined;
  readonly body: Buffer | null;
  /** Kafka: `topic/partition/offset` (the offset-dedupe flaw's key); RabbitMQ: undefined. */
  readonly offsetKey?: string | undefined;
}

/** How the broker side settles the delivery being processed. */
export interface Settlement {
  /** RabbitMQ basic.ack; Kafka commit of offset+1. Rejects when the connection is gone. */
  done(): Promise<void>;
  /** RabbitMQ nack with requeue; Kafka: no commit, seek back to the message. */
  retry(): Promise<void>;
  /** RabbitMQ nack without requeue (to the dead-letter queue); Kafka: to the DLQ topic, commit. */
  deadLetter(): Promise<void>;
}

/** A valid message's body. */
export interface ConsumerMessage {
  readonly entity: string;
  readonly version?: number | undefined;
  readonly status?: string | undefined;
  readonly amount?: number | undefined;
}

export interface Processor {
  handle(delivery: Delivery, settle: Settlement): Promise<void>;
  deliveries(messageId: string): number;
}

export interface ProcessorOptions {
  readonly pool: pg.Pool;
  readonly flaw: ConsumerFlaw;
  readonly processingMs: number;
  readonly poisonAttempts: number;
  readonly log: (line: string) => void;
}

/** Pause before a delivery is handed back (a poison message or a database error). */
const RETRY_PAUSE_MS = 100;

const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** The message in `body`, or why it is poison. */
export function parseConsumerMessage(body: Buffer | null): ConsumerMessage | { poison: string } {
  if (body === null) return { poison: 'empty body' };
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { poison: 'body is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { poison: 'body is not a JSON object' };
  }
  const fields = value as Record<string, unknown>;
  if (typeof fields.entity !== 'string' || fields.entity === '') {
    return { poison: 'body has no entity' };
  }
  const integer = (field: unknown): number | undefined =>
    typeof field === 'number' && Number.isInteger(field) ? field : undefined;
  return {
    entity: fields.entity,
    version: integer(fields.version),
    status: typeof fields.status === 'string' ? fields.status : undefined,
    amount: integer(fields.amount),
  };
}

async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The effect row and the entity's state, in the caller's transaction. */
async function applyEffect(
  client: pg.PoolClient,
  messageId: string,
  message: ConsumerMessage,
  lastWriteWins: boolean,
): Promise<void> {
  await client.query(
    'INSERT INTO consumer_effects (message_id, entity, amount) VALUES ($1, $2, $3)',
    [messageId, message.entity, message.amount ?? null],
  );
  if (message.version !== undefined) {
    const onlyNewer = lastWriteWins
      ? ''
      : ' WHERE consumer_state.version IS NULL OR consumer_state.version < EXCLUDED.version';
    await client.query(
      `INSERT INTO consumer_state (entity, version, status) VALUES ($1, $2, $3)
       ON CONFLICT (entity) DO UPDATE
       SET version = EXCLUDED.version, status = COALESCE(EXCLUDED.status, consumer_state.status)${onlyNewer}`,
      [message.entity, message.version, message.status ?? null],
    );
  } else if (message.status !== undefined) {
    await client.query(
      `INSERT INTO consumer_state (entity, status) VALUES ($1, $2)
       ON CONFLICT (entity) DO UPDATE SET status = EXCLUDED.status`,
      [message.entity, message.status],
    );
  }
}

const INSERT_INBOX =
  'INSERT INTO consumer_inbox (message_id, processed_at) VALUES ($1, now()) ON CONFLICT DO NOTHING';

export function createProcessor(options: ProcessorOptions): Processor {
  const { pool, flaw, processingMs, poisonAttempts, log } = options;
  const seen = new Map<string, number>();
  const poisonSeen = new Map<string, number>();

  /** Settles as done; a failure (connection cut) is logged: the broker redelivers. */
  async function ack(settle: Settlement, what: string): Promise<boolean> {
    try {
      await settle.done();
      return true;
    } catch (error) {
      log(`${what}: ack or commit failed, the broker will redeliver: ${describeError(error)}`);
      return false;
    }
  }

  async function poison(delivery: Delivery, reason: string, settle: Settlement): Promise<void> {
    const key =
      delivery.messageId ??
      `sha256:${createHash('sha256')
        .update(delivery.body ?? Buffer.alloc(0))
        .digest('hex')
        .slice(0, 16)}`;
    const count = (poisonSeen.get(key) ?? 0) + 1;
    poisonSeen.set(key, count);
    if (flaw === 'poison-blocks' || count < poisonAttempts) {
      log(`poison message ${key} (${reason}), delivery ${String(count)}: handed back`);
      await pause(RETRY_PAUSE_MS);
      await settle.retry();
      return;
    }
    await settle.deadLetter();
    poisonSeen.delete(key);
    log(`poison message ${key} (${reason}) dead-lettered after ${String(count)} deliveries`);
    await pool
      .query('INSERT INTO consumer_dead (message_id, reason, at) VALUES ($1, $2, now())', [
        key,
        reason,
      ])
      .catch((error: unknown) => {
        log(`consumer_dead row for ${key} not written: ${describeError(error)}`);
      });
  }

  /** Processes a valid message; returns once settled (or handed to the broker to redeliver). */
  async function valid(
    id: string,
    message: ConsumerMessage,
    delivery: Delivery,
    settle: Settlement,
  ): Promise<void> {
    const lastWriteWins = flaw === 'last-write-wins';
    switch (flaw) {
      case 'no-inbox':
        await inTransaction(pool, (client) => applyEffect(client, id, message, false));
        await pause(processingMs);
        await ack(settle, id);
        return;
      case 'inbox-after-effect': {
        await inTransaction(pool, (client) => applyEffect(client, id, message, false));
        const inserted = await pool.query(INSERT_INBOX, [id]);
        if (inserted.rowCount !== 0) await pause(processingMs);
        await ack(settle, id);
        return;
      }
      case 'inbox-outside-transaction': {
        const present = await pool.query('SELECT 1 FROM consumer_inbox WHERE message_id = $1', [
          id,
        ]);
        if (present.rowCount !== 0) {
          await ack(settle, id);
          return;
        }
        await inTransaction(pool, (client) => applyEffect(client, id, message, false));
        await pause(processingMs);
        if (await ack(settle, id)) await pool.query(INSERT_INBOX, [id]);
        return;
      }
      default: {
        const key = flaw === 'offset-dedupe' ? (delivery.offsetKey ?? id) : id;
        const fresh = await inTransaction(pool, async (client) => {
          const inserted = await client.query(INSERT_INBOX, [key]);
          if (inserted.rowCount === 0) return false;
          await applyEffect(client, id, message, lastWriteWins);
          return true;
        });
        if (fresh) await pause(processingMs);
        await ack(settle, id);
      }
    }
  }

  return {
    deliveries: (messageId) => seen.get(messageId) ?? 0,
    async handle(delivery, settle) {
      const id = delivery.messageId;
      if (id !== undefined) seen.set(id, (seen.get(id) ?? 0) + 1);
      const parsed = parseConsumerMessage(delivery.body);
      try {
        if ('poison' in parsed) await poison(delivery, parsed.poison, settle);
        else if (id === undefined) await poison(delivery, 'no message-id header', settle);
        else await valid(id, parsed, delivery, settle);
      } catch (error) {
        log(`message ${id ?? '(no id)'} not processed, handed back: ${describeError(error)}`);
        await pause(RETRY_PAUSE_MS);
        try {
          await settle.retry();
        } catch (retryError) {
          log(`message ${id ?? '(no id)'}: hand back failed: ${describeError(retryError)}`);
        }
      }
    },
  };
}
