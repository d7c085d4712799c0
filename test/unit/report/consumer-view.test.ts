import { describe, expect, it } from 'vitest';
import { effectsPerMessage } from '../../../src/consumer/checks.js';
import { planConsumerScenario } from '../../../src/consumer/plan.js';
import { consumerScenarioSchema } from '../../../src/consumer/schema.js';
import type { HistoryEvent } from '../../../src/history/events.js';
import { firstViolationMarkup } from './violation-markup.js';

/** The HTML report lists the messages a consumer violation is about, and what the broker said. */
describe('consumer violations in the HTML report', () => {
  it('lists each delivery of the message with its id, destination, headers and body', () => {
    const [plan] = planConsumerScenario(
      consumerScenarioSchema.parse({
        name: 'payments',
        consumer: { broker: 'rabbitmq', queue: 'orders' },
        message: { payload: { entity: '{{resource}}' }, headers: { type: 'order.created' } },
        effects: { sql: { url: 'postgres://127.0.0.1/x', query: 'select 1' } },
        patterns: [{ kind: 'duplicate-delivery', count: 2 }],
      }),
      { seed: 1, run: 'r' },
    );
    const message = plan?.messages[0];
    if (plan === undefined || message === undefined) throw new Error('no plan');
    const history: HistoryEvent[] = [1, 2].map((copy, index) => ({
      index,
      time: index * 5,
      scenario: 'payments',
      type: 'publish',
      op: `${plan.id}.${index}`,
      pattern: plan.id,
      patternKind: plan.kind,
      label: `delivery ${copy} of 2`,
      key: message.id,
      resource: message.resource,
      version: null,
      destination:
        'RabbitMQ at amqp://guest:***@127.0.0.1:5672, default exchange, routing key orders',
      headers: Object.entries(message.headers),
      body: message.body,
      ok: true,
      detail: 'confirmed',
      durationMs: 2,
    }));
    history.push({
      index: 2,
      time: 20,
      scenario: 'payments',
      type: 'probe',
      probe: 'effects',
      source: 'sql',
      pattern: plan.id,
      patternKind: plan.kind,
      key: message.id,
      tenant: null,
      marker: message.marker,
      resource: message.resource,
      label: 'after the duplicate deliveries',
      reading: { ok: true, count: 2 },
    });
    const html = firstViolationMarkup(history, effectsPerMessage(history, [plan]));
    expect(html).toContain('<h4>Messages published (2)</h4>');
    expect(html).toContain(`message #1 at 5 ms: delivery 2 of 2,`);
    expect(html).toContain(`id <code>${message.id}</code>`);
    expect(html).toContain('headers <code>type&#58; order.created, message-id&#58; ');
    expect(html).not.toContain('Events not found in the history');
  });
});
