/**
 * One size of the scale benchmark, in a process of its own so the peak RSS of one size does
 * not pollute the next: builds a synthetic history of about N events, runs the default
 * checkers on it, and prints one JSON line on stdout. With `--html` it then renders the HTML
 * report of that history into a temporary folder (removed afterwards) and adds its size.
 *
 *   npx tsx test/bench/scale-worker.ts 100000 [--html] [--seed 1]
 *
 * The history is synthetic but shaped like a real run's: many keys, each with a few attempts
 * through fault lanes (ok, lost responses, timeouts, undelivered requests), bursts sharing a
 * group id, different payloads under a key, tenants, requests without a key, out-of-order
 * resources with state readings, an effect reading per key, and about 0.5% of keys with a
 * planted anomaly (duplicate effect, replay body change, accepted mismatch…) so the checkers
 * do real work. Each distinct body is hashed once; its string, digest and header list are
 * shared by every request or response that carries it. `--copies` gives each event its own
 * copies, as responses arrive, and interns them as the recorder does: memory as a real run
 * holds it. Every event is an
 * object of its own.
 *
 *   npx tsx test/bench/scale-worker.ts 1000000 --copies
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CHECKERS, runChecks, validityOfChecks } from '../../src/check/index.js';
import type { CheckResult, Checker } from '../../src/check/index.js';
import type {
  CompletionEvent,
  HeaderList,
  HistoryEvent,
  InvokeEvent,
  PatternKind,
  PayloadVariant,
  ProbeReading,
  RecordedResponse,
} from '../../src/history/events.js';
import { Interner } from '../../src/history/intern.js';
import { HTML_FILE } from '../../src/report/html.js';
import { createReporters } from '../../src/report/registry.js';
import { RESULT_SCHEMA_VERSION } from '../../src/run/result.js';
import type { PatternSummary, RunResult, ScenarioResult } from '../../src/run/result.js';
import { countAttempts, summariseLatency } from '../../src/run/summary.js';
import { PROFILES } from '../../src/scenario/profile.js';
import { prng } from '../support/prng.js';

const SCENARIO = 'scale';
const TARGET = 'http://127.0.0.1:8080';
const LANES = {
  clean: { url: 'http://127.0.0.1:41001/payments', toxics: 'none' },
  'lost-response': { url: 'http://127.0.0.1:41002/payments', toxics: 'downstream limit_data 0' },
  slow: { url: 'http://127.0.0.1:41003/payments', toxics: 'downstream latency 2500 ms' },
  reset: { url: 'http://127.0.0.1:41004/payments', toxics: 'upstream reset_peer timeout=0' },
} as const;
type Lane = keyof typeof LANES;
const TENANTS = ['acme', 'globex', 'initech'] as const;
/** Share of keys with a planted anomaly, and of effect readings that fail (unknown). */
const ANOMALY_RATE = 0.005;
const PROBE_FAILURE_RATE = 0.002;

/** A response body, hashed once, shared by every response that carries it. */
interface Body {
  readonly text: string;
  readonly bytes: number;
  readonly sha256: string;
}

function bodyOf(text: string): Body {
  return {
    text,
    bytes: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

const JSON_HEADERS: HeaderList = [['content-type', 'application/json']];
const IN_FLIGHT = bodyOf(
  '{"error":{"type":"idempotency_error","code":"request_in_progress","message":"A request with this Idempotency-Key is still being processed; retry later."}}',
);
const MISMATCH = bodyOf(
  '{"error":{"type":"idempotency_error","code":"key_reused","message":"This Idempotency-Key was already used with a different request payload."}}',
);
const MISSING_KEY = bodyOf(
  '{"error":{"type":"invalid_request_error","code":"idempotency_key_required","message":"Send an Idempotency-Key header with every POST."}}',
);
const LABELS = ['original', ...Array.from({ length: 16 }, (_, i) => `retry ${i + 1}`)];

/** One logical operation: a key (per tenant), its payloads and its stored response. */
interface Operation {
  readonly n: number;
  readonly key: string;
  readonly tenant: string | null;
  readonly marker: string;
  readonly pattern: string;
  readonly kind: PatternKind;
  readonly requestHeaders: HeaderList;
  readonly payload: string;
  readonly differentPayload: string;
  readonly responseHeaders: HeaderList;
  readonly body: Body;
  /** Set for out-of-order operations. */
  readonly resource: string | null;
  readonly sequence: number | null;
  attempts: number;
}

const MIX: readonly (readonly [PatternKind, number])[] = [
  ['sequential-duplicates', 30],
  ['delayed-retries', 5],
  ['lost-response', 14],
  ['slow-timeout', 6],
  ['lost-request', 6],
  ['concurrent-burst', 14],
  ['payload-mismatch', 10],
  ['cross-tenant', 4],
  ['out-of-order', 2],
  ['missing-key', 4],
  ['distinct-keys', 5],
];
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0);

export interface GeneratedHistory {
  readonly history: HistoryEvent[];
  readonly keys: number;
  readonly attempts: number;
  /** Anomalies planted, by what was planted (checkers may report more than one per plant). */
  readonly planted: Record<string, number>;
  readonly patterns: PatternSummary[];
  readonly durationMs: number;
}

class Generator {
  readonly events: HistoryEvent[] = [];
  readonly planted: Record<string, number> = {};
  private readonly random: () => number;
  private clock = 0;
  private keys = 0;
  private attempts = 0;
  private readonly patterns = new Map<PatternKind, { attempts: number; keys: number }>();
  private readonly interner = new Interner();

  /**
   * copies: give every event its own body strings, digests and header lists, as responses
   * arrive, and pass them through the recorder's interning (memory as a real run holds it;
   * slower to build).
   */
  constructor(
    seed: number,
    private readonly copies = false,
  ) {
    this.random = prng(seed);
  }

  private text(value: string): string {
    return this.copies ? Buffer.from(value, 'utf8').toString('utf8') : value;
  }

  private headers(list: HeaderList): HeaderList {
    return this.copies ? list.map(([name, value]) => [this.text(name), this.text(value)]) : list;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private plant(what: string): void {
    this.planted[what] = (this.planted[what] ?? 0) + 1;
  }

  /** Advances the run clock by up to `max` ms and returns it. */
  private tick(max = 3): number {
    this.clock += 0.05 + this.random() * max;
    return Math.round(this.clock * 1000) / 1000;
  }

  private tally(kind: PatternKind, attempts: number, keys: number): void {
    const entry = this.patterns.get(kind) ?? { attempts: 0, keys: 0 };
    entry.attempts += attempts;
    entry.keys += keys;
    this.patterns.set(kind, entry);
  }

  operation(
    kind: PatternKind,
    options: {
      key?: string;
      tenant?: string | null;
      resource?: string | null;
      sequence?: number | null;
      payload?: string;
    } = {},
  ): Operation {
    this.keys += 1;
    const n = this.keys;
    const id = String(n).padStart(7, '0');
    const key = options.key ?? `k-3f9c-${id}`;
    const tenant =
      options.tenant !== undefined ? options.tenant : this.chance(0.3) ? this.pick(TENANTS) : null;
    const marker = `m-3f9c-${id}`;
    const customer = `cus_${String(this.int(1, 5000)).padStart(4, '0')}`;
    const amount = this.int(100, 99_999);
    const requestHeaders: [string, string][] = [
      ['content-type', 'application/json'],
      ['host', '127.0.0.1:41001'],
    ];
    if (kind !== 'missing-key') requestHeaders.push(['idempotency-key', key]);
    if (tenant !== null) requestHeaders.push(['x-tenant', tenant]);
    const payloadOf = (value: number): string =>
      `{"amount":${value},"currency":"EUR","customer":"${customer}","description":"Order ${id}","marker":"${marker}"}`;
    const payment = `pay_${id}${tenant === null ? '' : `_${tenant}`}`;
    return {
      n,
      key,
      tenant,
      marker,
      pattern: `${kind}#1`,
      kind,
      requestHeaders,
      payload: options.payload ?? payloadOf(amount),
      differentPayload: payloadOf(amount + 500),
      responseHeaders: [
        ['content-type', 'application/json'],
        ['location', `/payments/${payment}`],
      ],
      body: bodyOf(
        `{"id":"${payment}","object":"payment","amount":${amount},"currency":"EUR","customer":"${customer}",` +
          `"status":"succeeded","created":${1_719_830_400 + n},"description":"Order ${id}","metadata":{"marker":"${marker}"}}`,
      ),
      resource: options.resource ?? null,
      sequence: options.sequence ?? null,
      attempts: 0,
    };
  }

  invoke(
    op: Operation,
    lane: Lane,
    options: { variant?: PayloadVariant; group?: string | null; label?: string } = {},
  ): InvokeEvent {
    const attempt = op.attempts;
    op.attempts += 1;
    this.attempts += 1;
    const variant = options.variant ?? 'original';
    const event: InvokeEvent = {
      index: this.events.length,
      time: this.tick(),
      scenario: SCENARIO,
      type: 'invoke',
      // As the runner names them: the pattern instance and the invoke's position.
      op: `${op.pattern}.${this.events.length}`,
      pattern: op.pattern,
      patternKind: op.kind,
      label: options.label ?? LABELS[Math.min(attempt, LABELS.length - 1)] ?? 'retry',
      key: op.key,
      keySent: op.kind !== 'missing-key',
      tenant: op.tenant,
      variant,
      marker: op.marker,
      lane,
      group: options.group ?? null,
      resource: op.resource,
      sequence: op.sequence,
      request: {
        method: 'POST',
        url: LANES[lane].url,
        targetUrl: `${TARGET}/payments`,
        headers: this.headers(op.requestHeaders),
        body: this.text(variant === 'original' ? op.payload : op.differentPayload),
      },
      timeoutMs: 2000,
    };
    return this.record(event);
  }

  ok(invoke: InvokeEvent, status: number, body: Body, headers: HeaderList, wait = 30): void {
    const time = Math.max(this.tick(wait), invoke.time);
    const response: RecordedResponse = {
      status,
      headers: this.headers(headers),
      body: this.text(body.text),
      bodyBytes: body.bytes,
      bodySha256: this.text(body.sha256),
      bodyTruncated: false,
    };
    this.complete({
      index: this.events.length,
      time,
      scenario: SCENARIO,
      type: 'ok',
      op: invoke.op,
      response,
      durationMs: Math.round((time - invoke.time) * 1000) / 1000,
    });
  }

  error(invoke: InvokeEvent, type: 'fail' | 'info', code: string, message: string, wait = 5): void {
    const time = Math.max(this.tick(wait), invoke.time);
    this.complete({
      index: this.events.length,
      time,
      scenario: SCENARIO,
      type,
      op: invoke.op,
      error: { code, message },
      durationMs: Math.round((time - invoke.time) * 1000) / 1000,
    });
  }

  private complete(event: CompletionEvent): void {
    this.record(event);
  }

  /** Keeps the event; with copies, its parts go through the recorder's interning first. */
  private record<E extends HistoryEvent>(event: E): E {
    const kept = this.copies ? Object.assign({}, event, this.interner.parts(event)) : event;
    this.events.push(kept);
    return kept;
  }

  created(op: Operation, invoke: InvokeEvent, body = op.body, wait = 30): void {
    this.ok(invoke, 201, body, op.responseHeaders, wait);
  }

  probe(
    op: Operation,
    reading: ProbeReading,
    options: { keyless?: boolean; state?: 'in-order state' | 'final state' } = {},
  ): void {
    const failed = options.state === undefined && this.chance(PROBE_FAILURE_RATE);
    if (failed) this.plant('effect probe failed (unknown)');
    this.events.push({
      index: this.events.length,
      time: this.tick(),
      scenario: SCENARIO,
      type: 'probe',
      probe: options.state === undefined ? 'effects' : 'state',
      source: options.state === undefined ? 'sql' : 'http',
      pattern: op.pattern,
      patternKind: op.kind,
      key: options.keyless === true || options.state !== undefined ? null : op.key,
      tenant: op.tenant,
      marker: options.keyless === true ? op.marker : null,
      resource: options.state === undefined ? null : op.resource,
      label: options.state ?? 'after retries',
      reading: failed ? { ok: false, error: 'Connection terminated unexpectedly' } : reading,
    });
  }

  private effects(op: Operation, count: number): void {
    this.probe(op, { ok: true, count });
  }

  /** Retries on the clean lane that each get the stored response back. */
  private replays(op: Operation, count: number, wait = 3): void {
    for (let i = 0; i < count; i++) {
      this.tick(wait);
      this.created(op, this.invoke(op, 'clean'));
    }
  }

  /** One pattern instance's worth of events: one or two keys. */
  emit(): void {
    let roll = this.random() * MIX_TOTAL;
    let kind: PatternKind = 'sequential-duplicates';
    for (const [candidate, weight] of MIX) {
      roll -= weight;
      if (roll < 0) {
        kind = candidate;
        break;
      }
    }
    const anomalous = this.chance(ANOMALY_RATE);
    const before = this.attempts;
    const keysBefore = this.keys;
    this.emitKind(kind, anomalous);
    this.tally(kind, this.attempts - before, this.keys - keysBefore);
  }

  private emitKind(kind: PatternKind, anomalous: boolean): void {
    switch (kind) {
      case 'sequential-duplicates':
      case 'delayed-retries': {
        const op = this.operation(kind);
        this.created(op, this.invoke(op, 'clean'));
        const retries = this.int(3, 8);
        const changed = anomalous && this.chance(0.5) ? this.int(0, retries - 1) : -1;
        for (let i = 0; i < retries; i++) {
          this.tick(kind === 'delayed-retries' ? 5000 : 3);
          const body = i === changed ? this.changedBody(op) : op.body;
          this.created(op, this.invoke(op, 'clean'), body);
        }
        if (changed >= 0) this.plant('replay body differs');
        const duplicate = anomalous && changed < 0;
        if (duplicate) this.plant('duplicate effect');
        this.effects(op, duplicate ? 2 : 1);
        return;
      }
      case 'lost-response':
      case 'slow-timeout':
      case 'lost-request': {
        const op = this.operation(kind);
        const first =
          kind === 'lost-response'
            ? this.invoke(op, 'lost-response')
            : kind === 'slow-timeout'
              ? this.invoke(op, 'slow')
              : this.invoke(op, 'reset');
        if (kind === 'lost-response') {
          this.error(first, 'info', 'ECONNRESET', 'socket hang up: the response was lost', 40);
        } else if (kind === 'slow-timeout') {
          this.error(first, 'info', 'UND_ERR_HEADERS_TIMEOUT', 'timed out after 2000 ms', 2000);
        } else {
          this.error(first, 'fail', 'ECONNRESET', 'connection reset before the request was sent');
        }
        this.replays(op, this.int(2, 6), 50);
        if (anomalous) this.plant('duplicate effect');
        this.effects(op, anomalous ? 2 : 1);
        return;
      }
      case 'concurrent-burst': {
        const op = this.operation(kind);
        const group = `${op.pattern}.g${op.n}`;
        const size = this.int(4, 8);
        const invokes = Array.from({ length: size }, () => this.invoke(op, 'clean', { group }));
        const second = anomalous ? this.int(1, size - 1) : -1;
        // The winner completes first; the others were refused while in flight or waited.
        invokes.forEach((invoke, i) => {
          if (i === 0) this.created(op, invoke);
          else if (i === second) this.created(op, invoke, this.changedBody(op));
          else if (this.chance(0.6)) this.ok(invoke, 409, IN_FLIGHT, JSON_HEADERS, 10);
          else this.created(op, invoke);
        });
        this.replays(op, this.int(0, 2), 20);
        if (anomalous) this.plant('in-flight second execution');
        this.effects(op, anomalous ? 2 : 1);
        return;
      }
      case 'payload-mismatch': {
        const op = this.operation(kind);
        this.created(op, this.invoke(op, 'clean'));
        const different = this.invoke(op, 'clean', { variant: 'different', label: 'different' });
        if (anomalous) {
          const accepted = this.changedBody(op);
          this.created(op, different, accepted);
          this.created(op, this.invoke(op, 'clean'), accepted);
          this.plant('mismatch accepted (and original overwritten)');
        } else {
          this.ok(different, 409, MISMATCH, JSON_HEADERS, 10);
          this.replays(op, this.int(2, 4));
        }
        this.effects(op, anomalous ? 2 : 1);
        return;
      }
      case 'cross-tenant': {
        const owner = this.operation(kind, { tenant: 'acme' });
        const other = this.operation(kind, { key: owner.key, tenant: 'globex' });
        this.created(owner, this.invoke(owner, 'clean'));
        this.replays(owner, this.int(1, 3));
        const leaked = anomalous ? owner.body : other.body;
        this.ok(
          this.invoke(other, 'clean'),
          201,
          leaked,
          anomalous ? owner.responseHeaders : other.responseHeaders,
        );
        this.effects(owner, 1);
        if (anomalous) this.plant('cross-tenant replay');
        this.effects(other, anomalous ? 0 : 1);
        return;
      }
      case 'out-of-order': {
        const resource = `pay_ooo_${this.keys + 1}`;
        const create = this.operation(kind, { resource, sequence: 0 });
        const capture = this.operation(kind, { resource, sequence: 1, tenant: create.tenant });
        this.created(create, this.invoke(create, 'clean', { label: 'create' }));
        this.ok(
          this.invoke(capture, 'clean', { label: 'capture' }),
          200,
          capture.body,
          capture.responseHeaders,
        );
        const late = this.invoke(create, 'slow', { label: 'late duplicate of create' });
        this.created(create, late);
        this.effects(create, 1);
        this.effects(capture, 1);
        const state = { id: resource, status: 'captured', amount: 1250 };
        this.probe(create, { ok: true, state }, { state: 'in-order state' });
        if (anomalous) this.plant('state regressed');
        const final = anomalous ? { ...state, status: 'created' } : state;
        this.probe(create, { ok: true, state: final }, { state: 'final state' });
        return;
      }
      case 'missing-key': {
        const op = this.operation(kind);
        const sends = this.int(1, 2);
        for (let i = 0; i < sends; i++) {
          const invoke = this.invoke(op, 'clean', {
            label: i === 0 ? 'without key' : 'again without key',
          });
          if (anomalous) this.created(op, invoke);
          else this.ok(invoke, 400, MISSING_KEY, JSON_HEADERS, 5);
        }
        if (anomalous) this.plant('missing key accepted');
        this.probe(op, { ok: true, count: anomalous ? sends : 0 }, { keyless: true });
        return;
      }
      case 'distinct-keys': {
        const first = this.operation(kind);
        const second = this.operation(kind, { payload: first.payload, tenant: first.tenant });
        this.created(first, this.invoke(first, 'clean', { label: 'first key' }));
        const next = this.invoke(second, 'clean', { label: 'new key, same payload' });
        if (anomalous) {
          this.ok(next, 409, MISMATCH, JSON_HEADERS, 10);
          this.plant('distinct key refused');
        } else this.created(second, next);
        this.effects(first, 1);
        this.effects(second, anomalous ? 0 : 1);
        return;
      }
      default:
        throw new Error(`no generator for ${kind}`);
    }
  }

  /** The key's body with one field changed: what an API that rebuilds responses sends. */
  private changedBody(op: Operation): Body {
    return bodyOf(op.body.text.replace('"status":"succeeded"', '"status":"pending"'));
  }

  lanes(type: 'fault' | 'heal'): void {
    for (const lane of Object.keys(LANES) as Lane[]) {
      if (lane === 'clean') continue;
      this.events.push({
        index: this.events.length,
        time: this.tick(),
        scenario: SCENARIO,
        type,
        lane,
        toxics: LANES[lane].toxics,
      });
    }
  }

  result(): GeneratedHistory {
    return {
      history: this.events,
      keys: this.keys,
      attempts: this.attempts,
      planted: this.planted,
      patterns: [...this.patterns].map(([kind, { attempts, keys }]) => ({
        id: `${kind}#1`,
        kind,
        attempts,
        keys,
        notes: [],
      })),
      durationMs: Math.round(this.clock),
    };
  }
}

/** A synthetic history of about `events` events (a few more: the last operation is whole). */
export function generateHistory(events: number, seed = 1, copies = false): GeneratedHistory {
  const generator = new Generator(seed, copies);
  generator.lanes('fault');
  while (generator.events.length < events - 3) generator.emit();
  generator.lanes('heal');
  return generator.result();
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const peakRssMiB = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
const round = (value: number): number => Math.round(value * 10) / 10;

/** The default checkers, each timed (same names, same order, same functions). */
function timedCheckers(times: Record<string, number>): Record<string, Checker> {
  return Object.fromEntries(
    Object.entries(DEFAULT_CHECKERS).map(([name, checker]: [string, Checker]) => [
      name,
      (history, context) => {
        const started = performance.now();
        try {
          return checker(history, context);
        } finally {
          times[name] = round(performance.now() - started);
        }
      },
    ]),
  );
}

function runResultOf(
  generated: GeneratedHistory,
  checks: CheckResult[],
  reportDir: string,
  seed: number,
): RunResult {
  const profile = PROFILES.default;
  const valid = validityOfChecks(checks);
  const scenario: ScenarioResult = {
    name: SCENARIO,
    file: 'scenarios/scale.yaml',
    target: TARGET,
    profile,
    valid,
    patterns: generated.patterns,
    checks,
    attempts: countAttempts(generated.history),
    latency: summariseLatency(generated.history),
    durationMs: generated.durationMs,
    error: null,
  };
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'idemproof', version: 'bench' },
    runId: `bench-scale-${generated.history.length}`,
    startedAt: new Date().toISOString(),
    durationMs: generated.durationMs,
    seed,
    replayCommand: `npx idemproof run scenarios/scale.yaml --seed ${seed} --target '${TARGET}'`,
    reportDir,
    proxyPrefix: 'idemproof-bench-',
    valid,
    counts: {
      scenarios: 1,
      checks: checks.length,
      passed: checks.filter((check) => check.valid === true).length,
      failed: checks.filter((check) => check.valid === false).length,
      unknown: checks.filter((check) => check.valid === 'unknown').length,
    },
    lanes: (Object.keys(LANES) as Lane[]).map((name) => ({ name, toxics: LANES[name].toxics })),
    scenarios: [scenario],
  };
}

export interface WorkerReport {
  readonly events: number;
  readonly keys: number;
  readonly attempts: number;
  readonly buildMs: number;
  readonly checkMs: number;
  /**
   * CPU time (user + system, all threads, GC helpers included) during runChecks: less
   * sensitive than wall time to other processes on the machine, but can exceed it.
   */
  readonly checkCpuMs: number;
  /** Wall time of each checker inside that runChecks call. */
  readonly checkerMs: Record<string, number>;
  /** Peak RSS of the process up to the end of the checks (history + checks + tsx). */
  readonly peakRssMiB: number;
  /** RSS before the history was built (node + tsx + the modules): the floor. */
  readonly startRssMiB: number;
  readonly heapAfterBuildMiB: number;
  readonly anomalies: number;
  readonly anomalyKinds: Record<string, number>;
  readonly planted: Record<string, number>;
  readonly validity: Record<string, string>;
  readonly html?: {
    readonly bytes: number;
    readonly writeMs: number;
    /** Peak RSS after the report was written (the whole process). */
    readonly peakRssMiB: number;
  };
}

export async function measure(
  size: number,
  options: { html: boolean; seed: number; copies?: boolean },
): Promise<WorkerReport> {
  const startRssMiB = mib(process.memoryUsage().rss);
  const buildStarted = performance.now();
  const generated = generateHistory(size, options.seed, options.copies === true);
  const buildMs = round(performance.now() - buildStarted);
  const heapAfterBuildMiB = mib(process.memoryUsage().heapUsed);

  const checkerMs: Record<string, number> = {};
  const checkers = timedCheckers(checkerMs);
  const cpuStarted = process.cpuUsage();
  const checkStarted = performance.now();
  const checks = runChecks(generated.history, { profile: PROFILES.default }, checkers);
  const checkMs = round(performance.now() - checkStarted);
  const cpu = process.cpuUsage(cpuStarted);
  const checkCpuMs = round((cpu.user + cpu.system) / 1000);
  const peak = peakRssMiB();

  const anomalyKinds: Record<string, number> = {};
  for (const check of checks) {
    for (const anomaly of check.anomalies) {
      anomalyKinds[anomaly.kind] = (anomalyKinds[anomaly.kind] ?? 0) + 1;
    }
  }
  const report: WorkerReport = {
    events: generated.history.length,
    keys: generated.keys,
    attempts: generated.attempts,
    buildMs,
    checkMs,
    checkCpuMs,
    checkerMs,
    peakRssMiB: peak,
    startRssMiB,
    heapAfterBuildMiB,
    anomalies: checks.reduce((sum, check) => sum + check.anomalies.length, 0),
    anomalyKinds,
    planted: generated.planted,
    validity: Object.fromEntries(checks.map((check) => [check.checker, String(check.valid)])),
  };
  if (!options.html) return report;

  const dir = await mkdtemp(join(tmpdir(), 'idemproof-bench-scale-'));
  try {
    const reportDir = join(dir, 'run');
    const [html] = createReporters(['html'], {
      reportDir,
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    if (html === undefined) throw new Error('no html reporter');
    const result = runResultOf(generated, checks, reportDir, options.seed);
    const started = performance.now();
    await html.onEnd(result, generated.history);
    const writeMs = round(performance.now() - started);
    const { size: bytes } = await stat(join(reportDir, HTML_FILE));
    return { ...report, html: { bytes, writeMs, peakRssMiB: peakRssMiB() } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const size = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 100_000);
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args[seedAt + 1] ?? 1) || 1 : 1;
  const report = await measure(size, {
    html: args.includes('--html'),
    seed,
    copies: args.includes('--copies'),
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
