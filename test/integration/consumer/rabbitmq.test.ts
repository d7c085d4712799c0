import { describe, expect, it } from 'vitest';
import {
  COMMON_FLAW_CASES,
  describeConsumerSuite,
  violations,
} from '../../support/consumer-suite.js';

/**
 * scenarios/consumers/rabbitmq.yaml against the demo consumer (two competing consumers) behind
 * a real RabbitMQ node and a real PostgreSQL: the correct consumer holds under every message
 * pattern, and each flaw is caught by the check that names it.
 */
describe('a RabbitMQ consumer', () => {
  const SUITE = describeConsumerSuite('rabbitmq', [
    ...COMMON_FLAW_CASES,
    {
      // Two competing consumers: the poison message bounces between them, the others pass.
      flaw: 'poison-blocks',
      title: 'the poison message never reaches the dead-letter queue',
      violations: ['poisonDeadLettered: poison-message (poison-not-dead-lettered)'],
      includes: true,
    },
  ]);

  describe('counted with a delta probe (a global counter read before and after each pattern)', () => {
    // Only the effects: the patterns that need a key (state, dead letters) stay as they are.
    const delta = (yaml: string): string =>
      yaml.replace(
        /^effects:\n {2}sql:\n(( {4}.*\n)+)/m,
        'effects:\n  delta:\n    sql:\n      url: ${IDEMPROOF_DEMO_CONSUMER_DATABASE_URL}\n      query: select count(*) from consumer_effects\n      params: []\n',
      );
    const edited = (yaml: string): string => {
      const text = delta(yaml);
      if (text === yaml) throw new Error('the scenario has no sql effects block to replace');
      return text;
    };
    // Shares the file's broker and consumer; runs after the flaw cases above.
    it.each([
      ['none', []],
      [
        'no-inbox',
        [
          'duplicateAfterRetention: after-retention (retention-behaviour)',
          'effectsPerMessage: concurrent-duplicates (duplicate-effect)',
          'effectsPerMessage: dlq-replay (duplicate-effect)',
          'effectsPerMessage: duplicate-delivery (duplicate-effect)',
          'effectsPerMessage: redelivery (duplicate-effect)',
        ],
      ],
    ] as const)(
      'the %s consumer is judged the same',
      async (flaw, expected) => {
        const { result, history } = await SUITE().run(flaw, edited);
        expect(result.scenarios[0]?.error).toBeNull();
        expect(violations(result, history)).toEqual(expected);
        // Patterns of several messages are judged by their total, without a key.
        const totals = history.filter(
          (event) => event.type === 'probe' && event.key === null && event.probe === 'effects',
        );
        expect(totals.length).toBeGreaterThan(0);
      },
      180_000,
    );
  });
});
