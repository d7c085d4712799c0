import { z } from 'zod';
import { dependenciesSchema } from '../scenario/schema-chaos.js';
import {
  deltaProbeSchema,
  effectProbeSchema,
  sqlProbeSchema,
  stateProbeSchema,
} from '../scenario/schema.js';

/**
 * The scenario model of a message consumer: the broker and destination idemproof publishes to,
 * the message it sends (id, key, headers, body templates), the probes that read the
 * consumer's effects and state, and the message patterns.
 *
 * Must not: hold behaviour (consumer/ plan, execute and check do), or name a pattern that
 * cannot be judged without the probe it needs (cross-field rules say which).
 */

const durationMs = z.number().int().min(0).max(3_600_000);
const count = (fallback: number, max: number) => z.number().int().min(1).max(max).default(fallback);

/** "${NAME}" or text: expanded when the run starts. */
const address = z.string().min(1);

export const rabbitmqConsumerSchema = z
  .object({
    broker: z.literal('rabbitmq'),
    url: address
      .optional()
      .describe(
        'amqp://user:pass@host:port/vhost, or ${NAME}; default IDEMPROOF_RABBITMQ_URL, then AMQP_URL',
      ),
    exchange: z.string().default('').describe("The exchange to publish to ('' = the default)"),
    routingKey: z
      .string()
      .optional()
      .describe('Default: the queue name (right for the default exchange)'),
    queue: z.string().min(1).describe("The consumer's queue: it must exist before the run"),
    deadLetterQueue: z
      .string()
      .min(1)
      .optional()
      .describe("Where the consumer's failures land (dlq-replay, poison-message)"),
  })
  .strict();

export const kafkaConsumerSchema = z
  .object({
    broker: z.literal('kafka'),
    bootstrap: address
      .optional()
      .describe(
        'host:port[,host:port], or ${NAME}; default IDEMPROOF_KAFKA_URL, then KAFKA_BOOTSTRAP',
      ),
    topic: z.string().min(1).describe("The consumer's topic: it must exist before the run"),
    deadLetterTopic: z.string().min(1).optional(),
  })
  .strict();

export const consumerTargetSchema = z
  .discriminatedUnion('broker', [rabbitmqConsumerSchema, kafkaConsumerSchema])
  .describe('The broker (rabbitmq or kafka) and the destination the consumer reads');

export const messageIdPlaceSchema = z
  .union([
    z.object({ header: z.string().min(1) }).strict(),
    z.object({ property: z.literal('messageId') }).strict(),
    z.object({ field: z.string().min(1) }).strict(),
  ])
  .describe(
    'Where the message id travels: a header, the AMQP messageId property, or a top-level field of the JSON body',
  );

export const messageSchema = z
  .object({
    id: z
      .object({
        template: z
          .string()
          .min(1)
          .default('msg-{{run}}-{{n}}')
          .describe('The id template; {{n}} makes one per message'),
        in: messageIdPlaceSchema.default({ header: 'message-id' }),
      })
      .strict()
      .default({ template: 'msg-{{run}}-{{n}}', in: { header: 'message-id' } }),
    key: z
      .string()
      .optional()
      .describe('Kafka record key template (default {{resource}}: one entity, one partition)'),
    headers: z.record(z.string().min(1), z.string()).default({}),
    payload: z
      .unknown()
      .describe(
        'JSON body template: {{key}} (the id), {{resource}} (the entity), {{version}}, {{marker}}',
      ),
  })
  .strict();

const patternBase = {
  name: z.string().min(1).optional().describe('A label for reports'),
  settleMs: durationMs.optional().describe('Wait before reading effects (default settleMs)'),
};

export const consumerPatternSchema = z.discriminatedUnion('kind', [
  z
    .object({
      ...patternBase,
      kind: z.literal('duplicate-delivery'),
      count: count(3, 50).describe('Deliveries of the same message'),
      spreadMs: durationMs
        .default(0)
        .describe('Pause between deliveries: 0 back to back, more to spread them out'),
    })
    .strict(),
  z
    .object({
      ...patternBase,
      kind: z.literal('redelivery'),
      dependency: z
        .string()
        .min(1)
        .describe('The dependency lane between the consumer and the broker (under dependencies)'),
      holdMs: durationMs
        .default(5000)
        .describe('How long the consumer’s acks are held in the lane before the cut'),
      downMs: durationMs
        .default(0)
        .describe(
          'How long the lane stays cut: RabbitMQ redelivers at once; Kafka only once the consumer group has dropped the member (longer than its session timeout)',
        ),
      redeliveryWaitMs: durationMs
        .default(8000)
        .describe('How long to wait for the redelivery to be processed after the cut'),
    })
    .strict(),
  z
    .object({
      ...patternBase,
      kind: z.literal('concurrent-duplicates'),
      count: count(2, 16).describe('Copies published at once'),
      spreadPartitions: z
        .boolean()
        .default(true)
        .describe('Kafka: one copy per partition, so different consumer instances get them'),
    })
    .strict(),
  z
    .object({
      ...patternBase,
      kind: z.literal('shuffled-versions'),
      versions: count(5, 50).describe('Versioned events of one entity, published shuffled'),
    })
    .strict(),
  z
    .object({
      ...patternBase,
      kind: z.literal('dlq-replay'),
      window: count(5, 100).describe('Messages processed, dead-lettered again and replayed'),
      timeoutMs: durationMs.default(10_000).describe('How long the replay may take'),
    })
    .strict(),
  z
    .object({
      ...patternBase,
      kind: z.literal('poison-message'),
      poison: z.string().default('{"not json').describe('The raw body of the poison message'),
      followers: count(3, 50).describe('Valid messages published right after it'),
      deadLetter: z
        .enum(['required', 'optional'])
        .default('optional')
        .describe('required: the poison message must reach the dead-letter queue'),
    })
    .strict(),
  z
    .object({
      ...patternBase,
      kind: z.literal('stream'),
      count: count(1000, 100_000).describe('Distinct messages, each published once'),
      batch: count(500, 5000).describe(
        'Messages per publish (one Kafka request, one round of confirms)',
      ),
    })
    .strict()
    .describe('A stream of distinct messages at full speed: every one must have its effect, once'),
  z
    .object({
      ...patternBase,
      kind: z.literal('after-retention'),
      delayMs: durationMs.describe('Wait between the first delivery and the duplicate'),
    })
    .strict(),
]);

export type ConsumerPatternSpec = z.output<typeof consumerPatternSchema>;
export type ConsumerPatternKind = ConsumerPatternSpec['kind'];

export const consumerScenarioSchema = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().optional(),
    consumer: consumerTargetSchema,
    message: messageSchema,
    effects: z
      .union([effectProbeSchema, deltaProbeSchema])
      .describe(
        'How to count the effects of one message id (http, sql, sink), or delta: a global counter read before and after each pattern (a pattern of several messages is then judged by its total)',
      ),
    state: z
      .union([stateProbeSchema, z.object({ sql: sqlProbeSchema }).strict()])
      .optional()
      .describe("Reads an entity's state ({{resource}}): shuffled-versions compares it"),
    expectedState: z
      .string()
      .default('{{version}}')
      .describe(
        'What the state must read after shuffled-versions: a template over the highest version, e.g. {{version}}',
      ),
    dedupe: z
      .object({
        afterRetention: z
          .enum(['dedupe', 'reprocess', 'either'])
          .default('either')
          .describe('What a duplicate after the retention window must do'),
      })
      .strict()
      .default({ afterRetention: 'either' }),
    settleMs: durationMs.default(1000).describe('Wait after publishing before reading effects'),
    effectTimeoutMs: durationMs
      .default(10_000)
      .describe('How long a message may take to show its effect before it counts as lost'),
    dependencies: dependenciesSchema,
    patterns: z.array(consumerPatternSchema).min(1).max(100),
  })
  .strict();

export type ConsumerScenarioInput = z.input<typeof consumerScenarioSchema>;
export type ConsumerScenario = z.output<typeof consumerScenarioSchema>;
