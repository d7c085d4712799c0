import type {
  AttemptContext,
  HistoryEvent,
  InvokeEvent,
  OkEvent,
  ProbeEvent,
  RecordedRequest,
} from '../../../src/history/events.js';
import { responseOf, TARGET, type ResponseSpec } from './responses.js';

export { payment, responseOf, sha256, TARGET, type ResponseSpec } from './responses.js';

/**
 * Builds realistic histories for checker tests: events get increasing indexes and times,
 * requests look like the client records them (proxy URL, target URL, key and tenant headers,
 * JSON payload with the operation's marker), responses carry a real SHA-256 of their body.
 */
export type AttemptSpec = Partial<AttemptContext> & { readonly payload?: unknown };

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private clock = 0;
  private ops = 0;

  constructor(private readonly scenario = 'payments') {}

  /** Lets `ms` pass before the next event (events are otherwise 3 ms apart). */
  advance(ms: number): this {
    this.clock += ms;
    return this;
  }

  private position(): { index: number; time: number; scenario: string } {
    this.clock += 3;
    return { index: this.events.length, time: this.clock, scenario: this.scenario };
  }

  private push<E extends HistoryEvent>(event: E): E {
    this.events.push(event);
    return event;
  }

  invoke(spec: AttemptSpec = {}): InvokeEvent {
    this.ops += 1;
    const key = spec.key === undefined ? 'k-1' : spec.key;
    const keySent = spec.keySent ?? key !== null;
    const tenant = spec.tenant ?? null;
    const marker = spec.marker ?? `m-${key ?? 'none'}`;
    const variant = spec.variant ?? 'original';
    const payload = spec.payload ?? {
      amount: variant === 'original' ? 1000 : 2500,
      currency: 'EUR',
      customer: 'cus_1',
      marker,
    };
    const headers: [string, string][] = [
      ['content-type', 'application/json'],
      ['host', '127.0.0.1:40001'],
    ];
    if (keySent && key !== null) headers.push(['idempotency-key', key]);
    if (tenant !== null) headers.push(['x-tenant', tenant]);
    const request: RecordedRequest = {
      method: 'POST',
      url: 'http://127.0.0.1:40001/payments',
      targetUrl: TARGET,
      headers,
      body: JSON.stringify(payload),
    };
    const patternKind = spec.patternKind ?? 'sequential-duplicates';
    return this.push({
      ...this.position(),
      type: 'invoke',
      op: spec.op ?? `${this.scenario}.${patternKind}#1.a${this.ops}`,
      pattern: spec.pattern ?? `${patternKind}#1`,
      patternKind,
      label: spec.label ?? `attempt ${this.ops}`,
      key,
      keySent,
      tenant,
      variant,
      marker,
      lane: spec.lane ?? 'clean',
      group: spec.group ?? null,
      resource: spec.resource ?? null,
      sequence: spec.sequence ?? null,
      ...(spec.afterRetention === true ? { afterRetention: true as const } : {}),
      request,
      timeoutMs: 5000,
    });
  }

  ok(invoke: InvokeEvent, spec: ResponseSpec): OkEvent {
    const position = this.position();
    return this.push({
      ...position,
      type: 'ok',
      op: invoke.op,
      response: responseOf(spec),
      durationMs: position.time - invoke.time,
    });
  }

  /** Outcome unknown: the response was lost (or, with code TIMEOUT, the client gave up). */
  info(invoke: InvokeEvent, code = 'ECONNRESET', message = 'socket hang up'): void {
    this.error(invoke, 'info', code, message);
  }

  /** Certainly not processed: the request never reached the target. */
  fail(invoke: InvokeEvent, code = 'ECONNREFUSED', message = 'connect ECONNREFUSED'): void {
    this.error(invoke, 'fail', code, message);
  }

  private error(invoke: InvokeEvent, type: 'info' | 'fail', code: string, message: string): void {
    const position = this.position();
    const durationMs = position.time - invoke.time;
    this.push({ ...position, type, op: invoke.op, error: { code, message }, durationMs });
  }

  /** Invoke and read a response at once (a sequential attempt). */
  send(spec: AttemptSpec, response: ResponseSpec): InvokeEvent {
    const invoke = this.invoke(spec);
    this.ok(invoke, response);
    return invoke;
  }

  lost(spec: AttemptSpec = {}): InvokeEvent {
    const invoke = this.invoke({ lane: 'lost-response', ...spec });
    this.info(invoke);
    return invoke;
  }

  timedOut(spec: AttemptSpec = {}): InvokeEvent {
    const invoke = this.invoke({ lane: 'blackhole', ...spec });
    this.info(invoke, 'TIMEOUT', 'The operation was aborted due to timeout');
    return invoke;
  }

  notDelivered(spec: AttemptSpec = {}): InvokeEvent {
    const invoke = this.invoke({ lane: 'lost-request', ...spec });
    this.fail(invoke);
    return invoke;
  }

  private probe(fields: Partial<ProbeEvent> & Pick<ProbeEvent, 'probe' | 'reading'>): ProbeEvent {
    return this.push({
      ...this.position(),
      type: 'probe',
      source: 'sql',
      pattern: 'sequential-duplicates#1',
      patternKind: 'sequential-duplicates',
      key: null,
      tenant: null,
      marker: null,
      resource: null,
      label: 'after retries',
      ...fields,
    });
  }

  /** An effect count for a key (and tenant), or for a marker when `key` is null. */
  effects(
    count: number | { error: string },
    where: { key?: string | null; tenant?: string | null; marker?: string } = {},
  ): ProbeEvent {
    const reading =
      typeof count === 'number'
        ? { ok: true as const, count }
        : { ok: false as const, error: count.error };
    const key = where.key === undefined ? 'k-1' : where.key;
    return this.probe({
      probe: 'effects',
      reading,
      key,
      tenant: where.tenant ?? null,
      marker: where.marker ?? null,
    });
  }

  state(resource: string, label: string, state: unknown, failed?: string): ProbeEvent {
    const reading =
      failed === undefined ? { ok: true as const, state } : { ok: false as const, error: failed };
    return this.probe({
      probe: 'state',
      reading,
      resource,
      label,
      patternKind: 'out-of-order',
      pattern: 'out-of-order#1',
    });
  }

  history(): readonly HistoryEvent[] {
    return this.events;
  }
}
