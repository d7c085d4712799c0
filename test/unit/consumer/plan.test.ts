import { describe, expect, it } from 'vitest';
import {
  consumerPublishCount,
  planConsumerScenario,
  type ConsumerPlan,
} from '../../../src/consumer/plan.js';
import {
  consumerScenarioSchema,
  type ConsumerScenarioInput,
} from '../../../src/consumer/schema.js';

function scenario(
  patterns: ConsumerScenarioInput['patterns'],
  extra: Partial<ConsumerScenarioInput> = {},
) {
  return consumerScenarioSchema.parse({
    name: 'orders consumer',
    consumer: {
      broker: 'kafka',
      bootstrap: '127.0.0.1:9092',
      topic: 'orders',
      deadLetterTopic: 'orders.dlq',
    },
    message: {
      payload: { entity: '{{resource}}', version: 0, id: 'x' },
      headers: { type: 'order.created' },
    },
    effects: { sql: { url: 'postgres://127.0.0.1/x', query: 'select 1' } },
    state: { sql: { url: 'postgres://127.0.0.1/x', query: 'select 1', params: ['resource'] } },
    dependencies: { broker: { listen: '127.0.0.1:19092', upstream: '127.0.0.1:9092' } },
    patterns,
    ...extra,
  });
}

const shape = (plan: ConsumerPlan | undefined): string[] =>
  (plan?.steps ?? []).map((step) => {
    switch (step.kind) {
      case 'publish':
        return `publish ${step.message} ${step.label}`;
      case 'publish-together':
        return `together ${step.sends.map((send) => `${send.message}@${send.partition ?? '-'}`).join(' ')}`;
      case 'sleep':
        return `sleep ${step.ms}`;
      default:
        return step.kind;
    }
  });

describe('consumer plans', () => {
  it('publish one message id several times for duplicate-delivery, spread when asked, then read its effects', () => {
    const [plan] = planConsumerScenario(
      scenario([{ kind: 'duplicate-delivery', count: 3, spreadMs: 200 }]),
      { seed: 1, run: 'r' },
    );
    expect(plan?.messages).toHaveLength(1);
    expect(shape(plan)).toEqual([
      'publish 0 delivery 1 of 3',
      'sleep 200',
      'publish 0 delivery 2 of 3',
      'sleep 200',
      'publish 0 delivery 3 of 3',
      'await-effects',
      'sleep 1000',
      'probe-effects',
    ]);
    const message = plan?.messages[0];
    // The id travels in the message-id header by default, and the Kafka key is the entity.
    expect(message?.headers).toEqual({ type: 'order.created', 'message-id': message?.id });
    expect(message?.key).toBe(message?.resource);
    expect(JSON.parse(message?.body ?? '{}')).toMatchObject({ entity: message?.resource });
  });

  it('hold the acks, cut the lane once the effect shows, keep it cut downMs, then read after the redelivery', () => {
    const [plan] = planConsumerScenario(
      scenario([
        {
          kind: 'redelivery',
          dependency: 'broker',
          holdMs: 3000,
          downMs: 7000,
          redeliveryWaitMs: 5000,
        },
      ]),
      { seed: 1, run: 'r' },
    );
    expect(shape(plan)).toEqual([
      'hold-acks',
      'publish 0 original',
      'await-effects',
      'cut',
      'sleep 7000',
      'heal',
      'sleep 5000',
      'probe-effects',
    ]);
  });

  it('publish concurrent copies on different partitions, and shuffled versions never in order', () => {
    const plans = planConsumerScenario(
      scenario([
        { kind: 'concurrent-duplicates', count: 3 },
        { kind: 'shuffled-versions', versions: 4 },
      ]),
      { seed: 7, run: 'r' },
    );
    expect(shape(plans[0])[0]).toBe('together 0@0 0@1 0@2');
    const versions = (plans[1]?.steps ?? []).flatMap((step) =>
      step.kind === 'publish' ? [plans[1]?.messages[step.message]?.version] : [],
    );
    expect([...versions].sort()).toEqual([1, 2, 3, 4]);
    expect(versions.at(-1)).not.toBe(4);
    // Every version of one entity, each its own message id, the version in the body.
    const messages = plans[1]?.messages ?? [];
    expect(new Set(messages.map((message) => message.resource)).size).toBe(1);
    expect(new Set(messages.map((message) => message.id)).size).toBe(4);
    expect(
      messages.map((message) => (JSON.parse(message.body) as { version: number }).version),
    ).toEqual([1, 2, 3, 4]);
    const state = plans[1]?.steps.find((step) => step.kind === 'probe-state');
    expect(state?.kind === 'probe-state' && state.expected).toBe('4');
  });

  it('a poison message expects no effect, its followers share its key, and the dead-letter queue is checked when required', () => {
    const [plan] = planConsumerScenario(
      scenario([{ kind: 'poison-message', followers: 2, deadLetter: 'required' }]),
      { seed: 1, run: 'r' },
    );
    const [poison, ...followers] = plan?.messages ?? [];
    expect(poison).toMatchObject({ poison: true, expect: 'none', body: '{"not json' });
    expect(followers.map((message) => message.expect)).toEqual(['one', 'one']);
    expect(new Set(plan?.messages.map((message) => message.key)).size).toBe(1);
    expect(shape(plan).at(-1)).toBe('find-dead-letters');
  });

  it('a dlq-replay window is processed, dead-lettered again and replayed; after-retention follows the declared behaviour', () => {
    const plans = planConsumerScenario(
      scenario(
        [
          { kind: 'dlq-replay', window: 3 },
          { kind: 'after-retention', delayMs: 100 },
        ],
        {
          dedupe: { afterRetention: 'reprocess' },
        },
      ),
      { seed: 1, run: 'r' },
    );
    expect(shape(plans[0]).slice(3)).toEqual([
      'await-effects',
      'dead-letter',
      'replay-dead-letters',
      'sleep 1000',
      'probe-effects',
    ]);
    expect(plans[1]?.messages[0]?.expect).toBe('two');
  });

  it('are the same for the same seed and run, and fresh ids for another run', () => {
    const input = scenario([{ kind: 'duplicate-delivery' }, { kind: 'shuffled-versions' }]);
    const again = planConsumerScenario(input, { seed: 3, run: 'a' });
    expect(planConsumerScenario(input, { seed: 3, run: 'a' })).toEqual(again);
    const other = planConsumerScenario(input, { seed: 3, run: 'b' });
    expect(other[0]?.messages[0]?.id).not.toBe(again[0]?.messages[0]?.id);
  });

  it('publish a stream of distinct messages in batches, and count every one for --max-requests', () => {
    const plans = planConsumerScenario(scenario([{ kind: 'stream', count: 7, batch: 3 }]), {
      seed: 1,
      run: 'r',
    });
    const batches = (plans[0]?.steps ?? []).flatMap((step) =>
      step.kind === 'publish-batch' ? [`${step.label}: ${step.messages.join(',')}`] : [],
    );
    expect(batches).toEqual([
      'stream 1-3 of 7: 0,1,2',
      'stream 4-6 of 7: 3,4,5',
      'stream 7-7 of 7: 6',
    ]);
    expect(new Set(plans[0]?.messages.map((message) => message.id)).size).toBe(7);
    expect(consumerPublishCount(plans)).toBe(7);
  });
});
