import type { Anomaly, CheckResult, Validity } from '../check/types.js';
import type { HistoryEvent, ProbeEvent, PublishEvent } from '../history/events.js';
import type { ConsumerPlan, PlannedMessage } from './plan.js';

/**
 * The checks of a consumer scenario, pure functions of its history and plans:
 * - effectsPerMessage: one effect per message id, however often it was delivered (none for a
 *   poison message);
 * - noMessageLost: every message the broker confirmed has its effect within the time allowed,
 *   also behind a poison message;
 * - finalStateUnderShuffle: versioned events published out of order leave the highest version;
 * - duplicateAfterRetention: a duplicate after the retention window does what the scenario's
 *   `dedupe.afterRetention` declares;
 * - poisonDeadLettered: a poison message reaches the dead-letter queue (`deadLetter: required`).
 *
 * Must not: judge a message whose publish the broker did not confirm, or one whose effects
 * were not read (that is unknown, with a note).
 */

interface MessageFacts {
  readonly plan: ConsumerPlan;
  readonly message: PlannedMessage;
  readonly publishes: readonly PublishEvent[];
  /** The last effects reading of the message in its pattern. */
  readonly final: ProbeEvent | undefined;
}

function factsOf(history: readonly HistoryEvent[], plans: readonly ConsumerPlan[]): MessageFacts[] {
  const publishes = new Map<string, PublishEvent[]>();
  const readings = new Map<string, ProbeEvent>();
  for (const event of history) {
    if (event.type === 'publish') {
      const id = `${event.pattern}\n${event.key}`;
      publishes.set(id, [...(publishes.get(id) ?? []), event]);
    }
    if (event.type === 'probe' && event.probe === 'effects' && event.key !== null)
      readings.set(`${event.pattern}\n${event.key}`, event);
  }
  const totals = patternTotals(history);
  return plans
    .filter((plan) => !totals.has(plan.id))
    .flatMap((plan) =>
      plan.messages.map((message) => {
        const id = `${plan.id}\n${message.id}`;
        return { plan, message, publishes: publishes.get(id) ?? [], final: readings.get(id) };
      }),
    );
}

/** The last key-less effects reading of each pattern: a delta probe's total for all its messages. */
function patternTotals(history: readonly HistoryEvent[]): Map<string, ProbeEvent> {
  const totals = new Map<string, ProbeEvent>();
  for (const event of history)
    if (event.type === 'probe' && event.probe === 'effects' && event.key === null)
      totals.set(event.pattern, event);
  return totals;
}

/**
 * Patterns judged by their total (a delta probe over several messages): too many effects for
 * effectsPerMessage, too few for noMessageLost.
 */
function judgeTotals(
  tally: Tally,
  history: readonly HistoryEvent[],
  plans: readonly ConsumerPlan[],
  wrong: 'too-many' | 'too-few',
): void {
  for (const [pattern, total] of patternTotals(history)) {
    const plan = plans.find((candidate) => candidate.id === pattern);
    if (plan === undefined) continue;
    const expected = plan.messages.filter((message) => message.expect === 'one').length;
    const publishes = history.filter(
      (event): event is PublishEvent => event.type === 'publish' && event.pattern === pattern,
    );
    tally.checked += 1;
    const { reading } = total;
    if (!reading.ok || !('count' in reading)) {
      tally.unknown(
        `${pattern}: the effects could not be read${reading.ok ? '' : ` (${reading.error})`}`,
      );
      continue;
    }
    const { count } = reading;
    if (wrong === 'too-many' ? count <= expected : count >= expected) continue;
    tally.bad({
      kind: wrong === 'too-many' ? 'duplicate-effect' : 'message-lost',
      key: null,
      tenant: null,
      events: [total.index, ...publishes.map((event) => event.index)],
      expected: `${expected} effects`,
      actual: `${count} effects`,
      message:
        wrong === 'too-many'
          ? `the ${plan.messages.length} messages of ${pattern} (${publishes.length} publishes) made ${count} effects where ${expected} were due (the change of the delta probe's counter): some message was processed twice`
          : `the ${plan.messages.length} messages of ${pattern} made ${count} effects where ${expected} were due (the change of the delta probe's counter): ${expected - count} message(s) lost or blocked`,
    });
  }
}

type Verdict =
  | { readonly kind: 'skip' }
  | { readonly kind: 'unknown'; readonly note: string }
  | { readonly kind: 'ok' }
  | { readonly kind: 'bad'; readonly anomaly: Anomaly };

/** What a checker found so far: items checked, violations, and why some were unknown. */
class Tally {
  readonly anomalies: Anomaly[] = [];
  readonly notes: string[] = [];
  checked = 0;
  private valid: Validity = true;

  unknown(note: string): void {
    if (this.valid !== false) this.valid = 'unknown';
    this.notes.push(note);
  }

  bad(anomaly: Anomaly): void {
    this.valid = false;
    this.anomalies.push(anomaly);
  }

  result(checker: string): CheckResult {
    const { anomalies, notes, checked } = this;
    return { checker, valid: checked === 0 ? true : this.valid, checked, anomalies, notes };
  }
}

function judge(
  checker: string,
  facts: readonly MessageFacts[],
  verdictOf: (fact: MessageFacts, count: number) => Verdict,
  tally = new Tally(),
): CheckResult {
  for (const fact of facts) {
    if (!fact.publishes.some((publish) => publish.ok)) continue;
    const reading = fact.final?.reading;
    const count = reading !== undefined && reading.ok && 'count' in reading ? reading.count : null;
    const verdict = verdictOf(fact, count ?? 0);
    if (verdict.kind === 'skip') continue;
    tally.checked += 1;
    if (count === null) {
      tally.unknown(
        `message ${fact.message.id} (${fact.plan.id}): its effects could not be read${reading !== undefined && !reading.ok ? ` (${reading.error})` : ''}`,
      );
    } else if (verdict.kind === 'unknown') {
      tally.unknown(verdict.note);
    } else if (verdict.kind === 'bad') {
      tally.bad(verdict.anomaly);
    }
  }
  return tally.result(checker);
}

function eventsOf(fact: MessageFacts): number[] {
  return [
    ...(fact.final === undefined ? [] : [fact.final.index]),
    ...fact.publishes.map((publish) => publish.index),
  ];
}

function deliveries(fact: MessageFacts): string {
  const sent = fact.publishes.filter((publish) => publish.ok);
  return sent.length === 1
    ? 'published once'
    : `published ${sent.length} times (${sent.map((publish) => publish.label).join('; ')})`;
}

function anomaly(fact: MessageFacts, fields: Omit<Anomaly, 'key' | 'tenant' | 'events'>): Anomaly {
  return { ...fields, key: fact.message.id, tenant: null, events: eventsOf(fact) };
}

export function effectsPerMessage(
  history: readonly HistoryEvent[],
  plans: readonly ConsumerPlan[],
): CheckResult {
  const tally = new Tally();
  judgeTotals(tally, history, plans, 'too-many');
  return judge('effectsPerMessage', factsOf(history, plans), verdictOfEffects, tally);
}

function verdictOfEffects(fact: MessageFacts, count: number): Verdict {
  const { message } = fact;
  if (fact.plan.kind === 'after-retention') return { kind: 'skip' };
  if (message.expect === 'none') {
    return count === 0
      ? { kind: 'ok' }
      : {
          kind: 'bad',
          anomaly: anomaly(fact, {
            kind: 'poison-made-effect',
            expected: 'no effect from a poison message',
            actual: `${count} effects`,
            message: `the poison message ${message.id} made ${count} effects: a message the consumer cannot parse must be dead-lettered or dropped, never half-processed`,
          }),
        };
  }
  if (count <= 1) return { kind: 'ok' };
  return {
    kind: 'bad',
    anomaly: anomaly(fact, {
      kind: 'duplicate-effect',
      expected: '1 effect per message id',
      actual: `${count} effects`,
      message:
        fact.plan.kind === 'redelivery'
          ? `message ${message.id} was published once and made ${count} effects (${fact.plan.id}): the consumer's connection to the broker was cut after it processed the message and before its ack reached the broker, and the redelivery was processed again; keep the processed ids in an inbox written in the effect's transaction`
          : `message ${message.id} was ${deliveries(fact)} and made ${count} effects (${fact.plan.id}): the consumer does not dedupe by message id; keep the processed ids in an inbox written in the effect's transaction`,
    }),
  };
}

export function noMessageLost(
  history: readonly HistoryEvent[],
  plans: readonly ConsumerPlan[],
): CheckResult {
  const tally = new Tally();
  judgeTotals(tally, history, plans, 'too-few');
  return judge('noMessageLost', factsOf(history, plans), verdictOfLoss, tally);
}

function verdictOfLoss(fact: MessageFacts, count: number): Verdict {
  const { message, plan } = fact;
  if (message.expect === 'none') return { kind: 'skip' };
  if (count > 0) return { kind: 'ok' };
  const behindPoison = plan.kind === 'poison-message';
  return {
    kind: 'bad',
    anomaly: anomaly(fact, {
      kind: behindPoison ? 'blocked-by-poison' : 'message-lost',
      expected: 'the message has its effect',
      actual: 'no effect',
      message: behindPoison
        ? `message ${message.id}, published after a poison message, has no effect (${fact.final?.label ?? 'never read'}): the poison message blocks its queue or partition; dead-letter it after a few attempts`
        : `message ${message.id} was ${deliveries(fact)}, confirmed by the broker, and has no effect (${plan.id}, ${fact.final?.label ?? 'never read'}): the message was lost`,
    }),
  };
}

export function duplicateAfterRetention(
  history: readonly HistoryEvent[],
  plans: readonly ConsumerPlan[],
): CheckResult {
  return judge('duplicateAfterRetention', factsOf(history, plans), (fact, count) => {
    const { message } = fact;
    if (fact.plan.kind !== 'after-retention') return { kind: 'skip' };
    const allowed = message.expect === 'two' ? [2] : message.expect === 'one' ? [1] : [1, 2];
    if (allowed.includes(count)) return { kind: 'ok' };
    return {
      kind: 'bad',
      anomaly: anomaly(fact, {
        kind: 'retention-behaviour',
        expected: `${allowed.join(' or ')} effects (dedupe.afterRetention)`,
        actual: `${count} effects`,
        message: `message ${message.id}, delivered again after the retention window, made ${count} effects; the scenario declares ${allowed.join(' or ')}`,
      }),
    };
  });
}

export function finalStateUnderShuffle(
  history: readonly HistoryEvent[],
  plans: readonly ConsumerPlan[],
): CheckResult {
  const tally = new Tally();
  for (const plan of plans) {
    for (const step of plan.steps) {
      if (step.kind !== 'probe-state') continue;
      const reading = history.find(
        (event): event is ProbeEvent =>
          event.type === 'probe' &&
          event.probe === 'state' &&
          event.pattern === plan.id &&
          event.resource === step.resource,
      );
      tally.checked += 1;
      if (reading === undefined || !reading.reading.ok || !('state' in reading.reading)) {
        tally.unknown(`the state of ${step.resource} (${plan.id}) could not be read`);
        continue;
      }
      const state = reading.reading.state;
      const text = typeof state === 'string' ? state : JSON.stringify(state);
      if (text === step.expected) continue;
      const order = history
        .filter(
          (event): event is PublishEvent => event.type === 'publish' && event.pattern === plan.id,
        )
        .map((event) => event.version);
      tally.bad({
        kind: 'wrong-final-state',
        key: null,
        tenant: null,
        events: [
          reading.index,
          ...history
            .filter((event) => event.type === 'publish' && event.pattern === plan.id)
            .map((event) => event.index),
        ],
        expected: step.expected,
        actual: text,
        message: `versions ${order.join(', ')} of ${step.resource} arrived in that order and the final state reads ${text}, not ${step.expected}: the consumer applies whatever arrives last; compare versions`,
      });
    }
  }
  return tally.result('finalStateUnderShuffle');
}

export function poisonDeadLettered(
  history: readonly HistoryEvent[],
  plans: readonly ConsumerPlan[],
): CheckResult {
  const tally = new Tally();
  for (const event of history) {
    if (event.type !== 'probe' || event.probe !== 'dead-letter' || event.key === null) continue;
    const plan = plans.find((candidate) => candidate.id === event.pattern);
    if (plan === undefined) continue;
    tally.checked += 1;
    const { reading } = event;
    if (!reading.ok || !('count' in reading)) {
      tally.unknown(
        `the dead-letter queue could not be read for ${event.key}${reading.ok ? '' : `: ${reading.error}`}`,
      );
      continue;
    }
    if (reading.count > 0) continue;
    const publishes = history.filter(
      (candidate) =>
        candidate.type === 'publish' &&
        candidate.pattern === plan.id &&
        candidate.key === event.key,
    );
    tally.bad({
      kind: 'poison-not-dead-lettered',
      key: event.key,
      tenant: null,
      events: [event.index, ...publishes.map((publish) => publish.index)],
      expected: 'the poison message on the dead-letter queue',
      actual: 'not there',
      message: `the poison message ${event.key} never reached the dead-letter queue (${plan.id}): the consumer retries it forever or drops it; after a few failed deliveries, dead-letter it so it can be inspected and replayed`,
    });
  }
  return tally.result('poisonDeadLettered');
}

export const CONSUMER_CHECKERS = [
  effectsPerMessage,
  noMessageLost,
  finalStateUnderShuffle,
  duplicateAfterRetention,
  poisonDeadLettered,
] as const;

export function runConsumerChecks(
  history: readonly HistoryEvent[],
  plans: readonly ConsumerPlan[],
): CheckResult[] {
  return CONSUMER_CHECKERS.map((checker) => {
    try {
      return checker(history, plans);
    } catch (error) {
      return {
        checker: checker.name,
        valid: 'unknown' as const,
        checked: 0,
        anomalies: [],
        notes: [`the checker crashed: ${error instanceof Error ? error.message : String(error)}`],
      };
    }
  });
}
