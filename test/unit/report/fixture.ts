import type {
  HeaderList,
  HistoryEvent,
  InvokeEvent,
  PatternKind,
  ProbeReading,
} from '../../../src/history/events.js';
import type { RunResult, ScenarioResult } from '../../../src/run/result.js';
import { PROFILES } from '../../../src/scenario/profile.js';

/**
 * A hand-built run for the reporter tests: a passing scenario, a failing one (a duplicate
 * effect after a lost response, and a replay whose body differs), an undecided one whose
 * scenario stopped early, and one that stopped before any check. Hostile strings everywhere.
 */

export const HOSTILE_SCRIPT = '</textarea><script>alert(1)</script>';
export const HOSTILE_ATTRIBUTE = '"><img src=x onerror=alert(1)>';
export const HOSTILE_URL = 'javascript:alert(document.cookie)';
export const HOSTILE_CDATA = 'end of data ]]> here';
export const CONTROL = 'bell\u0001nul\u0000esc\u001b[31mred\u001b[0m';

export const PASS = 'payments-pass';
export const FAIL = 'payments <fail> & "friends"';
export const UNKNOWN = 'orders-unknown';
export const STOPPED = 'refunds-stopped';

export const DUPLICATE_KEY = 'k-dup-"<1>"';
export const REPLAY_KEY = 'k-replay';
export const REPLAY_COMMAND =
  "npx idemproof run scenarios/payments.yaml --seed 42 --target 'http://127.0.0.1:8080'";

/** The hostile JSON body the failing scenario's original got (and its retry sent). */
export const HOSTILE_BODY = JSON.stringify({
  id: 'pay_1',
  status: 'captured',
  note: `${HOSTILE_SCRIPT} ${HOSTILE_CDATA}`,
  x: '\u0001',
  raw: CONTROL,
});
/** The replay's body: a field changed, one added, fields reordered. */
export const REPLAY_BODY = JSON.stringify({
  status: 'pending',
  id: 'pay_1',
  note: `${HOSTILE_SCRIPT} ${HOSTILE_CDATA}`,
  x: '\u0001',
  raw: 'changed',
  extra: true,
});
/** A body that is not JSON, with raw control characters. */
export const RAW_HOSTILE_BODY = `${HOSTILE_SCRIPT} ${HOSTILE_CDATA} ${CONTROL} ${HOSTILE_ATTRIBUTE}`;

const HOSTILE_HEADERS: HeaderList = [
  ['content-type', 'application/json'],
  ['x-note', `"quoted" <b>bold</b> ${HOSTILE_ATTRIBUTE}`],
  ['location', HOSTILE_URL],
];

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private time = 0;

  private next(step = 3): { index: number; time: number } {
    this.time += step;
    return { index: this.events.length, time: this.time };
  }

  invoke(
    scenario: string,
    op: string,
    key: string | null,
    options: {
      lane?: string;
      label?: string;
      body?: string | null;
      tenant?: string | null;
      kind?: PatternKind;
      url?: string;
    } = {},
  ): number {
    const base = this.next();
    const url = options.url ?? 'http://127.0.0.1:41000/payments';
    const event: InvokeEvent = {
      ...base,
      scenario,
      type: 'invoke',
      op,
      pattern: `${options.kind ?? 'sequential-duplicates'}#1`,
      patternKind: options.kind ?? 'sequential-duplicates',
      label: options.label ?? 'original',
      key,
      keySent: key !== null,
      tenant: options.tenant ?? null,
      variant: 'original',
      marker: `m-${op}`,
      lane: options.lane ?? 'clean',
      group: null,
      resource: null,
      sequence: null,
      request: {
        method: 'POST',
        url,
        targetUrl: url.replace('41000', '8080'),
        headers: [
          ['content-type', 'application/json'],
          ['idempotency-key', key ?? ''],
          ['x-hostile', `a"b<c>${CONTROL}`],
        ],
        body: options.body === undefined ? '{"amount":100,"currency":"EUR"}' : options.body,
      },
      timeoutMs: 2000,
    };
    this.events.push(event);
    return base.index;
  }

  ok(
    scenario: string,
    op: string,
    status: number,
    body: string,
    headers: HeaderList = HOSTILE_HEADERS,
    duration = 12,
  ): number {
    const base = this.next(duration);
    this.events.push({
      ...base,
      scenario,
      type: 'ok',
      op,
      durationMs: duration,
      response: {
        status,
        headers,
        body,
        bodyBytes: Buffer.byteLength(body),
        bodySha256: `sha-${body.length}-${body.slice(0, 8)}`,
        bodyTruncated: false,
      },
    });
    return base.index;
  }

  info(scenario: string, op: string, message = 'socket hang up <after> "headers"'): number {
    const base = this.next(20);
    this.events.push({
      ...base,
      scenario,
      type: 'info',
      op,
      durationMs: 20,
      error: { code: 'ECONNRESET', message },
    });
    return base.index;
  }

  fail(scenario: string, op: string): number {
    const base = this.next(1);
    this.events.push({
      ...base,
      scenario,
      type: 'fail',
      op,
      durationMs: 1,
      error: { code: 'ECONNREFUSED', message: 'connect refused' },
    });
    return base.index;
  }

  probe(scenario: string, key: string, reading: ProbeReading): number {
    const base = this.next();
    this.events.push({
      ...base,
      scenario,
      type: 'probe',
      probe: 'effects',
      source: 'sql',
      pattern: 'sequential-duplicates#1',
      patternKind: 'sequential-duplicates',
      key,
      tenant: null,
      marker: null,
      resource: null,
      label: 'after retries',
      reading,
    });
    return base.index;
  }

  lane(lane: string, toxics: string): number {
    const base = this.next(0);
    this.events.push({ ...base, scenario: '', type: 'fault', lane, toxics });
    return base.index;
  }
}

const LATENCY = { count: 4, p50: 12, p90: 12, p99: 12, max: 12 };

function scenarioResult(
  partial: Partial<ScenarioResult> & Pick<ScenarioResult, 'name' | 'valid' | 'checks'>,
): ScenarioResult {
  return {
    file: `scenarios/${partial.name}.yaml`,
    target: 'http://127.0.0.1:8080',
    profile: PROFILES.default,
    patterns: [
      {
        id: 'sequential-duplicates#1',
        kind: 'sequential-duplicates',
        attempts: 2,
        keys: 1,
        notes: [],
      },
    ],
    attempts: { total: 2, ok: 2, fail: 0, info: 0 },
    latency: LATENCY,
    durationMs: 1234,
    error: null,
    ...partial,
  };
}

export interface Fixture {
  readonly result: RunResult;
  readonly history: readonly HistoryEvent[];
}

export function buildFixture(): Fixture {
  const h = new HistoryBuilder();
  h.lane('clean', 'none');
  h.lane('lost-response', 'downstream reset_peer timeout=0');

  // Passing scenario: an original and an identical replay.
  h.invoke(PASS, 'p.a1', 'k-pass');
  h.ok(PASS, 'p.a1', 201, '{"id":"pay_0"}');
  h.invoke(PASS, 'p.a2', 'k-pass', { label: 'retry 1' });
  h.ok(PASS, 'p.a2', 201, '{"id":"pay_0"}');
  h.invoke(PASS, 'p.a3', 'k-other', { lane: 'lost-response' });
  h.info(PASS, 'p.a3');

  // Failing scenario: a lost response, then the retry charged again.
  const dupInvoke1 = h.invoke(FAIL, 'f.a1', DUPLICATE_KEY, {
    lane: 'lost-response',
    kind: 'lost-response',
  });
  const dupInfo = h.info(FAIL, 'f.a1');
  const dupInvoke2 = h.invoke(FAIL, 'f.a2', DUPLICATE_KEY, {
    label: 'retry 1',
    kind: 'lost-response',
    body: HOSTILE_BODY,
  });
  const dupOk = h.ok(FAIL, 'f.a2', 201, RAW_HOSTILE_BODY);
  const dupProbe = h.probe(FAIL, DUPLICATE_KEY, { ok: true, count: 2 });
  // The replay differs from the original.
  const repInvoke1 = h.invoke(FAIL, 'f.a3', REPLAY_KEY, {
    url: `http://127.0.0.1:41000/payments?q=${HOSTILE_ATTRIBUTE}`,
  });
  const repOk1 = h.ok(FAIL, 'f.a3', 201, HOSTILE_BODY);
  const repInvoke2 = h.invoke(FAIL, 'f.a4', REPLAY_KEY, { label: 'retry 1' });
  const repOk2 = h.ok(FAIL, 'f.a4', 200, REPLAY_BODY);
  h.invoke(FAIL, 'f.a5', 'k-fine');
  h.ok(FAIL, 'f.a5', 201, '{"id":"pay_3"}');
  h.invoke(FAIL, 'f.a6', 'k-fine', { label: 'retry 1' });
  h.fail(FAIL, 'f.a6');

  const fail = scenarioResult({
    name: FAIL,
    valid: false,
    attempts: { total: 6, ok: 4, fail: 1, info: 1 },
    checks: [
      {
        checker: 'effectsPerKey',
        valid: false,
        checked: 3,
        anomalies: [
          {
            kind: 'duplicate-effect',
            key: DUPLICATE_KEY,
            tenant: null,
            events: [dupInvoke1, dupInfo, dupInvoke2, dupOk, dupProbe],
            expected: 'exactly one payment for the key',
            actual: `2 payments ${HOSTILE_SCRIPT}`,
            message: `Key ${DUPLICATE_KEY} made 2 payments after a lost response: ${HOSTILE_SCRIPT} ${HOSTILE_CDATA} ${CONTROL}`,
            curl: `curl -X POST 'http://127.0.0.1:8080/payments' -H 'idempotency-key: ${DUPLICATE_KEY}' --data-raw '${HOSTILE_ATTRIBUTE}'`,
          },
        ],
        notes: [],
      },
      {
        checker: 'replayIdentical',
        valid: false,
        checked: 2,
        anomalies: [
          {
            kind: 'replay-body-differs',
            key: REPLAY_KEY,
            tenant: 'acme "corp"',
            events: [repInvoke1, repOk1, repInvoke2, repOk2],
            expected: 'the replay repeats status 201 and the body byte for byte',
            actual: 'status 200; $.status "captured" → "pending"',
            message: `The retry of ${REPLAY_KEY} got a different body than the original (${HOSTILE_URL}).`,
            curl: `curl -X POST 'http://127.0.0.1:8080/payments' -H 'idempotency-key: ${REPLAY_KEY}'`,
          },
        ],
        notes: [],
      },
      { checker: 'conflictOnMismatch', valid: true, checked: 1, anomalies: [], notes: [] },
      {
        checker: 'stateOrder',
        valid: 'unknown',
        checked: 1,
        anomalies: [],
        notes: [`The state probe returned nothing readable ${HOSTILE_SCRIPT}`],
      },
    ],
  });

  const pass = scenarioResult({
    name: PASS,
    valid: true,
    attempts: { total: 3, ok: 2, fail: 0, info: 1 },
    checks: [
      { checker: 'effectsPerKey', valid: true, checked: 2, anomalies: [], notes: [] },
      { checker: 'replayIdentical', valid: true, checked: 1, anomalies: [], notes: [] },
      {
        checker: 'conflictOnMismatch',
        valid: true,
        checked: 0,
        anomalies: [],
        notes: ['no payload-mismatch pattern ran'],
      },
    ],
  });

  const unknown = scenarioResult({
    name: UNKNOWN,
    valid: 'unknown',
    attempts: { total: 0, ok: 0, fail: 0, info: 0 },
    latency: { count: 0, p50: 0, p90: 0, p99: 0, max: 0 },
    error: {
      code: 'IDEMPROOF_ERR_TARGET_UNREACHABLE',
      message: 'connect ECONNREFUSED 127.0.0.1:9 <script>x</script>',
    },
    checks: [
      {
        checker: 'effectsPerKey',
        valid: 'unknown',
        checked: 0,
        anomalies: [],
        notes: ['no attempt completed'],
      },
      { checker: 'replayIdentical', valid: 'unknown', checked: 0, anomalies: [], notes: [] },
    ],
  });

  const stopped = scenarioResult({
    name: STOPPED,
    valid: 'unknown',
    attempts: { total: 0, ok: 0, fail: 0, info: 0 },
    latency: { count: 0, p50: 0, p90: 0, p99: 0, max: 0 },
    error: {
      code: 'IDEMPROOF_ERR_TARGET_UNREACHABLE',
      message: `probe unreachable ${HOSTILE_CDATA}\u0002`,
    },
    checks: [],
  });

  const result: RunResult = {
    schemaVersion: 1,
    tool: { name: 'idemproof', version: '0.1.0' },
    runId: '20261124-061502-3fa9',
    startedAt: '2026-11-24T06:15:02.000Z',
    durationMs: 5432,
    seed: 42,
    replayCommand: REPLAY_COMMAND,
    reportDir: '/tmp/reports/20261124-061502-3fa9',
    proxyPrefix: 'idemproof_3fa9',
    valid: false,
    counts: { scenarios: 4, checks: 9, passed: 4, failed: 2, unknown: 3 },
    lanes: [
      { name: 'clean', toxics: 'none' },
      { name: 'lost-response', toxics: 'downstream reset_peer timeout=0' },
    ],
    stopped: null,
    scenarios: [pass, fail, unknown, stopped],
  };
  return { result, history: h.events };
}
