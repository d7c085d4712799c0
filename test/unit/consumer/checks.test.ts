import { describe, expect, it } from 'vitest';
import {
  duplicateAfterRetention,
  effectsPerMessage,
  finalStateUnderShuffle,
  noMessageLost,
  poisonDeadLettered,
} from '../../../src/consumer/checks.js';
import { planConsumerScenario, type ConsumerPlan } from '../../../src/consumer/plan.js';
import {
  consumerScenarioSchema,
  type ConsumerScenarioInput,
} from '../../../src/consumer/schema.js';
import type { HistoryEvent, ProbeEvent, PublishEvent } from '../../../src/history/events.js';

function plans(
  patterns: ConsumerScenarioInput['patterns'],
  extra: Partial<ConsumerScenarioInput> = {},
): ConsumerPlan[] {
  return planConsumerScenario(
    consumerScenarioSchema.parse({
      name: 'c',
      consumer: { broker: 'rabbitmq', queue: 'orders', deadLetterQueue: 'orders.dlq' },
      message: { payload: { entity: '{{resource}}', version: 0 } },
      effects: { sql: { url: 'postgres://127.0.0.1/x', query: 'select 1' } },
      state: { sql: { url: 'postgres://127.0.0.1/x', query: 'select 1', params: ['resource'] } },
      patterns,
      ...extra,
    }),
    { seed: 1, run: 'r' },
  );
}

/** A history as the executor records it: each message published `times`, then its reading. */
class History {
  readonly events: HistoryEvent[] = [];
  publish(plan: ConsumerPlan, ref: number, label = 'delivery', ok = true): void {
    const message = plan.messages[ref];
    if (message === undefined) throw new Error('no message');
    const event: PublishEvent = {
      index: this.events.length,
      time: this.events.length,
      scenario: 'c',
      type: 'publish',
      op: `${plan.id}.${this.events.length}`,
      pattern: plan.id,
      patternKind: plan.kind,
      label,
      key: message.id,
      resource: message.resource,
      version: message.version,
      destination: 'RabbitMQ',
      headers: [],
      body: message.body,
      ok,
      detail: ok ? 'confirmed' : 'nack',
      durationMs: 1,
      ...(message.poison ? { poison: true as const } : {}),
    };
    this.events.push(event);
  }
  probe(
    plan: ConsumerPlan,
    ref: number,
    reading: ProbeEvent['reading'],
    probe: ProbeEvent['probe'] = 'effects',
  ): void {
    const message = plan.messages[ref];
    this.events.push({
      index: this.events.length,
      time: this.events.length,
      scenario: 'c',
      type: 'probe',
      probe,
      source: 'sql',
      pattern: plan.id,
      patternKind: plan.kind,
      key: probe === 'state' ? null : (message?.id ?? null),
      tenant: null,
      marker: null,
      resource: message?.resource ?? null,
      label: 'after',
      reading,
    });
  }
}

describe('consumer checks', () => {
  it('effectsPerMessage: one effect however often a message came; a second one is a duplicate, named with its deliveries', () => {
    const [plan] = plans([{ kind: 'duplicate-delivery', count: 2 }]);
    if (plan === undefined) throw new Error('no plan');
    const good = new History();
    good.publish(plan, 0, 'delivery 1 of 2');
    good.publish(plan, 0, 'delivery 2 of 2');
    good.probe(plan, 0, { ok: true, count: 1 });
    expect(effectsPerMessage(good.events, [plan])).toMatchObject({ valid: true, checked: 1 });
    const bad = new History();
    bad.publish(plan, 0, 'delivery 1 of 2');
    bad.publish(plan, 0, 'delivery 2 of 2');
    bad.probe(plan, 0, { ok: true, count: 2 });
    const result = effectsPerMessage(bad.events, [plan]);
    expect(result.valid).toBe(false);
    expect(result.anomalies[0]?.kind).toBe('duplicate-effect');
    expect(result.anomalies[0]?.message).toMatch(
      /was published 2 times \(delivery 1 of 2; delivery 2 of 2\) and made 2 effects/,
    );
    // The probe first: reports find the pattern from it.
    expect(result.anomalies[0]?.events).toEqual([2, 0, 1]);
  });

  it('noMessageLost: a confirmed message without an effect is lost; behind a poison message it is blocked', () => {
    const [lost, poisoned] = plans([
      { kind: 'duplicate-delivery', count: 1 },
      { kind: 'poison-message', followers: 1 },
    ]);
    if (lost === undefined || poisoned === undefined) throw new Error('no plan');
    const h = new History();
    h.publish(lost, 0);
    h.probe(lost, 0, { ok: true, count: 0 });
    h.publish(poisoned, 0, 'poison');
    h.publish(poisoned, 1, 'after the poison');
    h.probe(poisoned, 0, { ok: true, count: 0 });
    h.probe(poisoned, 1, { ok: true, count: 0 });
    const result = noMessageLost(h.events, [lost, poisoned]);
    expect(result.anomalies.map((anomaly) => anomaly.kind)).toEqual([
      'message-lost',
      'blocked-by-poison',
    ]);
    // The poison message itself must have no effect, which effectsPerMessage judges.
    expect(result.checked).toBe(2);
    expect(effectsPerMessage(h.events, [lost, poisoned]).valid).toBe(true);
  });

  it('judges nothing the broker did not confirm, and is unknown when the effects could not be read', () => {
    const [plan] = plans([{ kind: 'duplicate-delivery', count: 1 }]);
    if (plan === undefined) throw new Error('no plan');
    const refused = new History();
    refused.publish(plan, 0, 'delivery', false);
    refused.probe(plan, 0, { ok: true, count: 0 });
    expect(noMessageLost(refused.events, [plan])).toMatchObject({ valid: true, checked: 0 });
    const unread = new History();
    unread.publish(plan, 0);
    unread.probe(plan, 0, { ok: false, error: 'connection refused' });
    const result = noMessageLost(unread.events, [plan]);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toContain('connection refused');
  });

  it('finalStateUnderShuffle: the highest version must win, whatever the order', () => {
    const [plan] = plans([{ kind: 'shuffled-versions', versions: 3 }]);
    if (plan === undefined) throw new Error('no plan');
    const h = new History();
    for (const step of plan.steps) if (step.kind === 'publish') h.publish(plan, step.message);
    h.probe(plan, 0, { ok: true, state: 2 }, 'state');
    const result = finalStateUnderShuffle(h.events, [plan]);
    expect(result.valid).toBe(false);
    expect(result.anomalies[0]?.message).toMatch(
      /^versions [123], [123], [123] of .* the final state reads 2, not 3/,
    );
    h.events.pop();
    h.probe(plan, 0, { ok: true, state: 3 }, 'state');
    expect(finalStateUnderShuffle(h.events, [plan]).valid).toBe(true);
  });

  it('duplicateAfterRetention follows dedupe.afterRetention; poisonDeadLettered wants the poison on the dead-letter queue', () => {
    const [late] = plans([{ kind: 'after-retention', delayMs: 10 }], {
      dedupe: { afterRetention: 'dedupe' },
    });
    const [poisoned] = plans([{ kind: 'poison-message', followers: 1, deadLetter: 'required' }]);
    if (late === undefined || poisoned === undefined) throw new Error('no plan');
    const h = new History();
    h.publish(late, 0);
    h.publish(late, 0);
    h.probe(late, 0, { ok: true, count: 2 });
    expect(duplicateAfterRetention(h.events, [late]).anomalies[0]?.kind).toBe(
      'retention-behaviour',
    );
    h.publish(poisoned, 0, 'poison');
    h.probe(poisoned, 0, { ok: true, count: 0 }, 'dead-letter');
    const result = poisonDeadLettered(h.events, [late, poisoned]);
    expect(result.anomalies.map((anomaly) => anomaly.kind)).toEqual(['poison-not-dead-lettered']);
  });

  it('a delta probe judges a pattern of several messages by its total: too many is a duplicate, too few a loss', () => {
    const [plan] = plans([{ kind: 'dlq-replay', window: 3 }]);
    if (plan === undefined) throw new Error('no plan');
    const verdicts = (total: number) => {
      const h = new History();
      for (const ref of [0, 1, 2]) h.publish(plan, ref);
      h.events.push({
        index: h.events.length,
        time: h.events.length,
        scenario: 'c',
        type: 'probe',
        probe: 'effects',
        source: 'sql',
        pattern: plan.id,
        patternKind: plan.kind,
        key: null,
        tenant: null,
        marker: null,
        resource: null,
        label: 'after: all 3 messages (delta)',
        reading: { ok: true, count: total, before: 10, after: 10 + total },
      });
      return [effectsPerMessage(h.events, [plan]), noMessageLost(h.events, [plan])].map(
        (result) =>
          `${String(result.valid)} ${result.checked} ${result.anomalies.map((a) => a.kind).join(',')}`,
      );
    };
    expect(verdicts(3)).toEqual(['true 1 ', 'true 1 ']);
    expect(verdicts(5)).toEqual(['false 1 duplicate-effect', 'true 1 ']);
    expect(verdicts(2)).toEqual(['true 1 ', 'false 1 message-lost']);
  });
});
