import { describe } from 'vitest';
import { COMMON_FLAW_CASES, describeConsumerSuite } from '../../support/consumer-suite.js';

/**
 * scenarios/consumers/rabbitmq.yaml against the demo consumer (two competing consumers) behind
 * a real RabbitMQ node and a real PostgreSQL: the correct consumer holds under every message
 * pattern, and each flaw is caught by the check that names it.
 */
describe('a RabbitMQ consumer', () => {
  describeConsumerSuite('rabbitmq', [
    ...COMMON_FLAW_CASES,
    {
      // Two competing consumers: the poison message bounces between them, the others pass.
      flaw: 'poison-blocks',
      title: 'the poison message never reaches the dead-letter queue',
      violations: ['poisonDeadLettered: poison-message (poison-not-dead-lettered)'],
      includes: true,
    },
  ]);
});
