/**
 * The demo consumers that ship with idemproof: a message consumer per broker (RabbitMQ, Kafka)
 * that processes each message once by its id with an inbox table, or one realistic flaw at a
 * time. idemproof's consumer scenarios run against them, as the HTTP suite runs against the
 * demo payments API.
 *
 * A message: header `message-id` (the id), a JSON body
 * `{entity: string, version?: number, status?: string, amount?: number}`. A body that is not
 * JSON or has no `entity` is a poison message.
 *
 * What a processed message leaves in PostgreSQL (what scenarios probe):
 * - `consumer_effects(id bigserial, message_id text, entity text, amount int, created_at)`: one
 *   row per processing: the effect (`select count(*) … where message_id = $1`);
 * - `consumer_state(entity text primary key, version int, status text)`: the entity's state,
 *   updated only by a higher version (shuffled versioned events);
 * - `consumer_inbox(message_id text primary key, processed_at timestamptz)`: the processed ids;
 * - `consumer_dead(message_id text, reason text, at timestamptz)`: messages dead-lettered.
 */

export const CONSUMER_FLAWS = [
  'none',
  /** No inbox: every delivery is processed. */
  'no-inbox',
  /** The effect is committed first, the inbox checked (and written) after it. */
  'inbox-after-effect',
  /** The inbox is read before and written after the ack, outside the effect's transaction. */
  'inbox-outside-transaction',
  /** Dedupes by the delivery's offset (Kafka) instead of the message id. Kafka only. */
  'offset-dedupe',
  /** A poison message is retried forever at the head of its queue or partition. */
  'poison-blocks',
  /** The state takes the last event that arrives, whatever its version. */
  'last-write-wins',
] as const;

export type ConsumerFlaw = (typeof CONSUMER_FLAWS)[number];

export interface DemoConsumerOptions {
  readonly broker:
    | {
        readonly kind: 'rabbitmq';
        /** Where the consumer connects (may be a dependency lane in front of the broker). */
        readonly url: string;
        /** Declared durable, dead-lettering to `deadLetterQueue`. */
        readonly queue: string;
        readonly deadLetterQueue: string;
      }
    | {
        readonly kind: 'kafka';
        /** Where the consumer connects (may be a lane: the broker advertises it). */
        readonly bootstrap: string;
        /** Created with `partitions` partitions when missing. */
        readonly topic: string;
        readonly deadLetterTopic: string;
        readonly groupId: string;
        readonly partitions?: number;
      };
  readonly databaseUrl: string;
  readonly flaw?: ConsumerFlaw;
  /** Consumer instances (competing consumers; Kafka: members of one group). Default 2. */
  readonly instances?: number;
  /** Pause between the effect and the ack or commit, in ms. Default 20. */
  readonly processingMs?: number;
  /** Deliveries of a poison message before it is dead-lettered. Default 3. */
  readonly poisonAttempts?: number;
  readonly log?: (line: string) => void;
}

export interface DemoConsumer {
  /** One line for people, e.g. "RabbitMQ demo consumer ×2 on queue orders (flaw: none)". */
  readonly description: string;
  /** Resolves once every instance consumes (Kafka: the group has its partitions). */
  readonly ready: Promise<void>;
  /** Deliveries seen so far, by message id (for tests: a redelivery really happened). */
  deliveries(messageId: string): number;
  stop(): Promise<void>;
}
