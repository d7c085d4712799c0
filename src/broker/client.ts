import { createKafkaClient } from './kafka-client.js';
import { createRabbitmqClient } from './rabbitmq-client.js';
import type { BrokerClient, BrokerTarget } from './types.js';

/**
 * The one entry point to a broker: a client for the target's broker, connected, with its
 * destinations checked to exist (a missing queue or topic fails here, before any traffic).
 *
 * Must not: create queues, exchanges or topics (the consumer under test owns them).
 */
export function createBrokerClient(target: BrokerTarget): Promise<BrokerClient> {
  switch (target.broker) {
    case 'rabbitmq':
      return createRabbitmqClient(target);
    case 'kafka':
      return createKafkaClient(target);
  }
}
