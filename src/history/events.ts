/**
 * The history: an append-only list of plain-data events, one run's whole story. Every attempt
 * is an `invoke` followed by exactly one completion (`ok`, `fail` or `info`); probe readings
 * and fault windows are events too. Checkers read nothing else.
 */

/** Which payload an attempt sent: the key's original request, or a different one under it. */
export type PayloadVariant = 'original' | 'different';

/** The retry patterns, as named in scenario files. */
export const PATTERN_KINDS = [
  'sequential-duplicates',
  'concurrent-burst',
  'payload-mismatch',
  'lost-response',
  'lost-request',
  'slow-timeout',
  'delayed-retries',
  'out-of-order',
  'missing-key',
  'cross-tenant',
  'distinct-keys',
  'steps',
  'schedule',
  'dependency-fault',
  'crash',
  'cold-start-replay',
  // Message patterns of consumer scenarios.
  'duplicate-delivery',
  'redelivery',
  'concurrent-duplicates',
  'shuffled-versions',
  'dlq-replay',
  'poison-message',
  'after-retention',
  'stream',
] as const;
export type PatternKind = (typeof PATTERN_KINDS)[number];

/**
 * A header list as sent or received, order and repeats kept: received names lower-case, sent
 * names as the scenario wrote them (compare names case-insensitively, e.g. `headerValue`).
 */
export type HeaderList = readonly (readonly [string, string])[];

export interface RecordedRequest {
  readonly method: string;
  /** The URL the request was sent to (a fault lane's proxy, or the target itself). */
  readonly url: string;
  /** The same request addressed to the target directly: what a curl reproduction uses. */
  readonly targetUrl: string;
  readonly headers: HeaderList;
  /** The body as sent, or its first bytes when it was longer than the recording limit. */
  readonly body: string | null;
  /** Set when the body is not UTF-8 text (binary, multipart with files): `body` is base64. */
  readonly bodyEncoding?: 'base64';
  /**
   * Set only when the body was cut for the record (the request itself went out whole): its
   * size in bytes and the SHA-256 (hex) of all of it, as for responses.
   */
  readonly bodyBytes?: number;
  readonly bodySha256?: string;
  readonly bodyTruncated?: true;
}

export interface RecordedResponse {
  readonly status: number;
  readonly headers: HeaderList;
  /** The body as UTF-8 text, cut at the recording limit (see `bodyTruncated`). */
  readonly body: string;
  /** Size of the whole body in bytes. */
  readonly bodyBytes: number;
  /** SHA-256 (hex) of the whole body: byte identity is decided on this. */
  readonly bodySha256: string;
  readonly bodyTruncated: boolean;
}

/** What an attempt was for, as the pattern that made it saw it. */
export interface AttemptContext {
  /** Unique in the run, e.g. "s1.concurrent-burst#1.a3". */
  readonly op: string;
  /** The pattern instance, e.g. "concurrent-burst#1". */
  readonly pattern: string;
  readonly patternKind: PatternKind;
  /** Short human label: "original", "retry 2", "late duplicate of paid". */
  readonly label: string;
  /** The idempotency key of the logical operation; null only when the pattern has none. */
  readonly key: string | null;
  /** False when the request was sent without the key header (missing-key pattern). */
  readonly keySent: boolean;
  /** Tenant name from the scenario, or null for the default (no tenant headers). */
  readonly tenant: string | null;
  readonly variant: PayloadVariant;
  /** A value unique to the logical operation, placed in its payload; probes may count by it. */
  readonly marker: string;
  /** The fault lane the attempt went through. */
  readonly lane: string;
  /** Attempts released together share a group id. */
  readonly group: string | null;
  /** For state-changing operations on one resource (out-of-order): which resource and step. */
  readonly resource: string | null;
  /** Position of the operation in the intended order on its resource (0-based), if any. */
  readonly sequence: number | null;
  /**
   * Sent on purpose after the declared retention: the key is expected to execute again, so
   * the attempt is no replay and adds one effect of its own.
   */
  readonly afterRetention?: true;
}

interface EventBase {
  /** Position in the history, from 0. */
  readonly index: number;
  /** Milliseconds since the run started, from a monotonic clock. */
  readonly time: number;
  /** Scenario name. */
  readonly scenario: string;
}

export interface InvokeEvent extends EventBase, AttemptContext {
  readonly type: 'invoke';
  readonly request: RecordedRequest;
  /** The client timeout of this attempt in ms. */
  readonly timeoutMs: number;
}

/** Fields every completion may carry. */
interface CompletionBase extends EventBase {
  readonly op: string;
  readonly durationMs: number;
  /**
   * For a request of a synchronised burst: when its last byte was released (ms since the run
   * started, like `time`). The spread of these is how tightly the burst was sent.
   */
  readonly releasedAt?: number;
  /** For a request of a synchronised burst: the settle pause waited before its release (ms). */
  readonly releasePauseMs?: number;
}

export interface OkEvent extends CompletionBase {
  readonly type: 'ok';
  readonly response: RecordedResponse;
}

/** An attempt that certainly did not reach the target's handler. */
export interface FailEvent extends CompletionBase {
  readonly type: 'fail';
  readonly error: { readonly code: string; readonly message: string };
}

/** An attempt whose outcome is unknown: it may or may not have been processed. */
export interface InfoEvent extends CompletionBase {
  readonly type: 'info';
  readonly error: { readonly code: string; readonly message: string };
}

export type ProbeReading =
  | {
      readonly ok: true;
      readonly count: number;
      /** A delta probe's counter before the key's first attempt and now (count = after − before). */
      readonly before?: number;
      readonly after?: number;
    }
  | {
      readonly ok: true;
      readonly state: unknown;
      /** The resource answered 404: it does not exist (yet); `state` is null. */
      readonly absent?: true;
    }
  | { readonly ok: false; readonly error: string };

/**
 * A reading of the target's effects (how many) or of a resource's state; `baseline` is a delta
 * probe's counter before a key's first attempt, which no checker counts as effects.
 */
export interface ProbeEvent extends EventBase {
  readonly type: 'probe';
  /** dead-letter: whether a message is on the dead-letter queue (count 1) or not (0). */
  readonly probe: 'effects' | 'state' | 'baseline' | 'dead-letter';
  /** http, sql or sink. */
  readonly source: string;
  readonly pattern: string;
  readonly patternKind: PatternKind;
  /** What was probed: a key (with its tenant), a marker, or a resource. */
  readonly key: string | null;
  readonly tenant: string | null;
  readonly marker: string | null;
  readonly resource: string | null;
  /** e.g. "after retries", "in-order state", "final state". */
  readonly label: string;
  readonly reading: ProbeReading;
}

/** A fault lane came into existence with fixed toxics, or went away. */
export interface LaneEvent extends EventBase {
  readonly type: 'fault' | 'heal';
  readonly lane: string;
  /** One-line description of the toxics, e.g. "downstream reset_peer timeout=0". */
  readonly toxics: string;
}

/**
 * A hook request of the scenario's flow (setup, reset, per-key setup or teardown), sent straight
 * to the target and recorded with its outcome in one event. Checkers ignore it.
 */
export interface HookEvent extends EventBase {
  readonly type: 'hook';
  readonly phase: 'setup' | 'reset' | 'key-setup' | 'key-teardown' | 'teardown';
  /** The step's name, or "METHOD path". */
  readonly label: string;
  /** The pattern it ran for (null for scenario setup and teardown). */
  readonly pattern: string | null;
  /** The key it ran for (per-key hooks), else null. */
  readonly key: string | null;
  readonly request: RecordedRequest;
  readonly response?: RecordedResponse;
  readonly error?: { readonly code: string; readonly message: string };
  readonly durationMs: number;
  /** The names of the values it captured (never the values). */
  readonly captured: readonly string[];
}

export type CompletionEvent = OkEvent | FailEvent | InfoEvent;
/**
 * A fault in one of the target's dependencies began (`dependency-fault`) or ended
 * (`dependency-heal`): the window the attempts sent in between were exposed to it.
 */
export interface DependencyEvent extends EventBase {
  readonly type: 'dependency-fault' | 'dependency-heal';
  /** The name under the scenario's `dependencies`. */
  readonly dependency: string;
  /** The fault's kind: latency, reset, timeout, down, bandwidth or cut. */
  readonly fault: string;
  /** One line, e.g. "latency 1500 ms on store (127.0.0.1:16379 → 127.0.0.1:5432)". */
  readonly detail: string;
  /** The pattern instance it was held for. */
  readonly pattern: string;
}

/** One call the target made to the sink (its downstream), and what the sink did with it. */
export interface DownstreamEvent extends EventBase {
  readonly type: 'downstream';
  /** The last path segment the target called: the key or marker. */
  readonly token: string;
  /** 1 for the first call with this token, 2 for the next… */
  readonly call: number;
  /** The forwarded key header's value; null when the call carried none or none is declared. */
  readonly forwardedKey: string | null;
  /** The header the downstream dedupes by, when the scenario declares one (`forwardedKey`). */
  readonly forwardedHeader?: string;
  /** What the sink answered: "ok", "drop", "timeout", "503", "slow 2000 ms". */
  readonly answer: string;
  /** Whether the downstream processed it (ok, slow and drop do; timeout and 5xx do not). */
  readonly processed: boolean;
}

/** The process nemesis killed the target, started it, or saw it ready again. */
export interface ProcessEvent extends EventBase {
  readonly type: 'process';
  readonly action: 'kill' | 'start' | 'ready' | 'not-ready';
  /** The pattern instance it acted for. */
  readonly pattern: string;
  /** The command and its outcome, e.g. "kill -9 4242: exit 0 in 3 ms". */
  readonly detail: string;
}

/**
 * A message idemproof published to a consumer's broker (consumer scenarios), with what the
 * broker said. `key` is the message id: the consumer's idempotency key.
 */
export interface PublishEvent extends EventBase {
  readonly type: 'publish';
  readonly op: string;
  readonly pattern: string;
  readonly patternKind: PatternKind;
  /** e.g. "delivery 2 of 3", "version 4 of 5", "poison", "replayed from the dead-letter queue". */
  readonly label: string;
  readonly key: string;
  /** The entity the message is about ({{resource}}). */
  readonly resource: string;
  /** The version of a versioned event (shuffled-versions), else null. */
  readonly version: number | null;
  /** Where it went, e.g. "exchange '' routing key orders" or "topic orders partition 1". */
  readonly destination: string;
  readonly headers: HeaderList;
  /** The body as text (cut at the recording limit like request bodies). */
  readonly body: string;
  /** Confirmed by the broker. */
  readonly ok: boolean;
  /** Where it landed or why it was not confirmed. */
  readonly detail: string;
  /** Publish to confirm, in ms. */
  readonly durationMs: number;
  /** A message published on purpose that must make no effect (a poison message). */
  readonly poison?: true;
}

export type HistoryEvent =
  | InvokeEvent
  | PublishEvent
  | CompletionEvent
  | ProbeEvent
  | LaneEvent
  | HookEvent
  | DependencyEvent
  | DownstreamEvent
  | ProcessEvent;

/** An invoke paired with its completion (undefined while in flight or if the run was cut). */
export interface Attempt {
  readonly invoke: InvokeEvent;
  readonly completion: CompletionEvent | undefined;
}

/**
 * Every checker pairs attempts; on a history of 10^6 events that pairing dominated the check
 * time, so it is computed once per history array (and again only if the array has grown).
 */
const pairedHistories = new WeakMap<
  readonly HistoryEvent[],
  { length: number; attempts: Attempt[] }
>();

/** Pairs every invoke with its completion, in invoke order. The result must not be mutated. */
export function attemptsOf(history: readonly HistoryEvent[]): Attempt[] {
  const cached = pairedHistories.get(history);
  if (cached !== undefined && cached.length === history.length) return cached.attempts;
  const attempts = pairAttempts(history);
  pairedHistories.set(history, { length: history.length, attempts });
  return attempts;
}

function pairAttempts(history: readonly HistoryEvent[]): Attempt[] {
  const completions = new Map<string, CompletionEvent>();
  for (const event of history) {
    if (event.type === 'ok' || event.type === 'fail' || event.type === 'info') {
      completions.set(event.op, event);
    }
  }
  const attempts: Attempt[] = [];
  for (const event of history) {
    if (event.type === 'invoke')
      attempts.push({ invoke: event, completion: completions.get(event.op) });
  }
  return attempts;
}

/** The value of the first header called `name` (case-insensitive), if any. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return headers.find(([header]) => header.toLowerCase() === wanted)?.[1];
}
