import { describe } from 'vitest';
import { COMMON_FLAW_CASES, describeConsumerSuite } from '../../support/consumer-suite.js';

/**
 * scenarios/consumers/kafka.yaml against the demo consumer (two members of one group, two
 * partitions) behind a real Kafka 4 broker in KRaft mode and a real PostgreSQL: the correct
 * consumer holds under every message pattern, and each flaw is caught by the check that names it.
 */
describe('a Kafka consumer', () => {
  describeConsumerSuite('kafka', [
    ...COMMON_FLAW_CASES,
    {
      flaw: 'offset-dedupe',
      title: 'the same message published twice has two offsets, and runs twice',
      violations: ['effectsPerMessage: duplicate-delivery (duplicate-effect)'],
      includes: true,
    },
    {
      flaw: 'poison-blocks',
      title: 'the messages behind the poison message on its partition are never processed',
      violations: [
        'noMessageLost: poison-message (blocked-by-poison)',
        'poisonDeadLettered: poison-message (poison-not-dead-lettered)',
      ],
      includes: true,
    },
  ]);
});
