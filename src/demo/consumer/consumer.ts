import pg from 'pg';
import { IdemproofError, describeError } from '../../errors.js';
import { startKafkaConsumers } from './kafka.js';
import { createProcessor } from './process.js';
import { startRabbitConsumers, type BrokerConsumers } from './rabbitmq.js';
import { migrateConsumerTables } from './tables.js';
import { CONSUMER_FLAWS, type DemoConsumer, type DemoConsumerOptions } from './types.js';

/**
 * Starts a demo consumer (see `types.ts`): creates its tables, then consumes from RabbitMQ or
 * Kafka with `instances` competing consumers that share one processor and one pool.
 *
 * Must not: publish to the consumer's own queue or topic, drop a table, or outlive `stop()`
 * (bounded at 10 s).
 */

const STOP_TIMEOUT_MS = 10_000;

function positiveInteger(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `startDemoConsumer: ${name} must be an integer of at least ${String(minimum)}, ` +
        `got ${String(value)}`,
    );
  }
  return value;
}

export async function startDemoConsumer(options: DemoConsumerOptions): Promise<DemoConsumer> {
  const flaw = options.flaw ?? 'none';
  if (!(CONSUMER_FLAWS as readonly string[]).includes(flaw)) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `startDemoConsumer: unknown flaw '${String(flaw)}'; one of ${CONSUMER_FLAWS.join(', ')}`,
    );
  }
  const { broker } = options;
  if (flaw === 'offset-dedupe' && broker.kind === 'rabbitmq') {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      "startDemoConsumer: flaw 'offset-dedupe' is Kafka only (RabbitMQ has no offsets); " +
        'pick another flaw or a Kafka broker',
    );
  }
  const instances = positiveInteger('instances', options.instances ?? 2, 1);
  const processingMs = positiveInteger('processingMs', options.processingMs ?? 20, 0);
  const poisonAttempts = positiveInteger('poisonAttempts', options.poisonAttempts ?? 3, 1);
  const partitions =
    broker.kind === 'kafka' ? positiveInteger('partitions', broker.partitions ?? 2, 1) : 1;
  const log = options.log ?? (() => undefined);

  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: instances + 4 });
  pool.on('error', (error) => {
    log(`database pool error: ${error.message}`);
  });
  let consumers: BrokerConsumers;
  try {
    try {
      await migrateConsumerTables(pool);
    } catch (error) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
        `demo consumer: creating its tables failed: ${describeError(error)}. ` +
          'Check that the database URL points to a running PostgreSQL the user may write to.',
        { cause: error },
      );
    }
    const processor = createProcessor({ pool, flaw, processingMs, poisonAttempts, log });
    consumers =
      broker.kind === 'rabbitmq'
        ? await startRabbitConsumers({ ...broker, instances, processor, log })
        : await startKafkaConsumers({ ...broker, partitions, instances, processor, log });
    const description =
      broker.kind === 'rabbitmq'
        ? `RabbitMQ demo consumer ×${String(instances)} on queue ${broker.queue} (flaw: ${flaw})`
        : `Kafka demo consumer ×${String(instances)} in group ${broker.groupId} on topic ` +
          `${broker.topic} (flaw: ${flaw})`;
    let stopping: Promise<void> | undefined;
    return {
      description,
      ready: consumers.ready,
      deliveries: (messageId) => processor.deliveries(messageId),
      stop() {
        stopping ??= (async () => {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            consumers.stop(),
            new Promise<void>((resolve) => {
              timer = setTimeout(() => {
                log(`stop: the broker clients did not close within ${String(STOP_TIMEOUT_MS)} ms`);
                resolve();
              }, STOP_TIMEOUT_MS);
            }),
          ]);
          clearTimeout(timer);
          await pool.end().catch(() => undefined);
        })();
        return stopping;
      },
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
