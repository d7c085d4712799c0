/**
 * The broker side of a consumer scenario: what idemproof publishes, and how it reaches Kafka
 * or RabbitMQ. The consumer under test is the user's; idemproof only publishes, moves dead
 * letters back, and reads effects through the usual probes.
 *
 * Must not: consume from the consumer's own queue or group (that would steal its messages);
 * the dead-letter replay reads only the dead-letter queue or topic it is given.
 */

/** Where a message's id travels; the consumer dedupes by it. */
export type MessageIdPlace =
  { readonly header: string } | { readonly property: 'messageId' } | { readonly field: string };

/** One message as idemproof sends it (templates already filled in). */
export interface OutgoingMessage {
  /** The message id (the idempotency key of a message). */
  readonly id: string;
  /** Kafka: the record key (partitioning); RabbitMQ: unused. */
  readonly key: string | null;
  /** Headers as strings; the id header is already among them when `id` travels in a header. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as bytes (JSON text for a JSON payload, or raw text for a poison message). */
  readonly body: Buffer;
  /** RabbitMQ: the AMQP messageId property (set when the id travels there). */
  readonly messageIdProperty?: string | undefined;
  /** Kafka: send to this partition instead of the key's (concurrent duplicates on two partitions). */
  readonly partition?: number | undefined;
}

/** What the broker said about one publish. */
export interface PublishReceipt {
  /** Confirmed by the broker (RabbitMQ publisher confirm; Kafka acks=all). */
  readonly ok: boolean;
  /** Where it landed, for people: "partition 1 offset 42", "exchange orders, routing key x". */
  readonly where: string;
  readonly error?: string | undefined;
}

/** The broker address and destinations of a consumer scenario, after ${ENV} expansion. */
export type BrokerTarget =
  | {
      readonly broker: 'rabbitmq';
      /** amqp://user:pass@host:port/vhost */
      readonly url: string;
      /** The exchange to publish to ('' = the default exchange, routing key = queue name). */
      readonly exchange: string;
      readonly routingKey: string;
      /** The consumer's queue: checked to exist before traffic. */
      readonly queue: string;
      /** The dead-letter queue the consumer's failures land in (dlq-replay, poison-message). */
      readonly deadLetterQueue?: string | undefined;
    }
  | {
      readonly broker: 'kafka';
      /** host:port[,host:port] */
      readonly bootstrap: string;
      readonly topic: string;
      readonly deadLetterTopic?: string | undefined;
    };

/** Publishes to one broker target; one per scenario run. */
export interface BrokerClient {
  /** "RabbitMQ at amqp://…@127.0.0.1:5672, exchange orders" (no password). */
  readonly description: string;
  /** Kafka: how many partitions the topic has (1 for RabbitMQ). */
  partitions(): Promise<number>;
  publish(message: OutgoingMessage): Promise<PublishReceipt>;
  /**
   * Publishes many messages at once, as a producer in a hurry does (Kafka: one batch request;
   * RabbitMQ: all published, then every confirm awaited): one receipt per message, in order.
   */
  publishMany(messages: readonly OutgoingMessage[]): Promise<PublishReceipt[]>;
  /**
   * Puts copies of `messages` on the dead-letter queue or topic, as a consumer's failures
   * would have (with the same id, headers and body).
   */
  deadLetter(messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * The operator's replay: reads every message now on the dead-letter queue or topic whose id
   * is in `ids` (waiting up to `timeoutMs` for them), and publishes each back to the main
   * destination unchanged. Returns the ids it moved, in the order it moved them. Other
   * messages on the dead-letter queue are left where they are.
   */
  replayDeadLetters(
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
  ): Promise<string[]>;
  /**
   * Which of `ids` are on the dead-letter queue or topic now (waiting up to `timeoutMs` for
   * them all), leaving every message where it is: nothing is moved or removed.
   */
  findDeadLetters(
    ids: readonly string[],
    idPlace: MessageIdPlace,
    timeoutMs: number,
  ): Promise<string[]>;
  close(): Promise<void>;
}
