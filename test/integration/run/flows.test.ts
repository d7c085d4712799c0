import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import type { HistoryEvent, HookEvent, ProbeEvent } from '../../../src/history/events.js';
import { rebuildReports } from '../../../src/run/rebuild.js';
import { runSuite } from '../../../src/run/run.js';
import {
  startFlowTarget,
  type FlowTarget,
  type FlowTargetOptions,
} from '../../support/flow-target.js';

const hooks = (history: readonly HistoryEvent[]): HookEvent[] =>
  history.filter((event): event is HookEvent => event.type === 'hook');
const probes = (history: readonly HistoryEvent[]): ProbeEvent[] =>
  history.filter((event): event is ProbeEvent => event.type === 'probe');

describe('flows, hooks and effects, end to end through Toxiproxy', () => {
  let folder: string;
  let target: FlowTarget | undefined;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-flows-'));
  });
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function run(name: string, yaml: string, options: FlowTargetOptions = {}) {
    target = await startFlowTarget(options);
    const path = join(folder, `${name}.yaml`);
    await writeFile(path, yaml.replaceAll('TARGET', target.url));
    const reportDir = join(folder, `reports-${name}`);
    const outcome = await runSuite({
      paths: [path],
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir,
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    return { ...outcome, reportDir, scenario: outcome.result.scenarios[0] };
  }

  it('creates a customer per key, then pays with {{customerId}} through fault lanes; a secret capture never shows', async () => {
    const { scenario, history, reportDir } = await run(
      'customer-flow',
      `name: customer flow
target: { baseUrl: TARGET, path: /payments, headers: { Authorization: 'Bearer {{token}}' } }
hooks:
  setup:
    - { name: login, path: /login, capture: { token: $.token }, secret: true }
  perKey:
    setup:
      - name: create customer
        path: /customers
        headers: { Authorization: 'Bearer {{token}}' }
        body: { name: 'c-{{marker}}' }
        expect: [201]
        capture: { customerId: $.id }
payload: { template: { customer: '{{customerId}}', amount: 5 } }
effects:
  http: { url: '/payments?key={{key}}', count: $.count, headers: { Authorization: 'Bearer {{token}}' } }
patterns:
  - kind: sequential-duplicates
    count: 3
    lanes: [lost-response]
  - kind: lost-response
  - kind: concurrent-burst
    count: 4
    rounds: 2
`,
      { requireToken: true },
    );
    expect(scenario?.error).toBeNull();
    expect(scenario?.valid).toBe(true);
    const created = hooks(history).filter((event) => event.phase === 'key-setup');
    // One customer per key: 1 + 1 + 2 keys.
    expect(created).toHaveLength(4);
    expect(target?.customers.size).toBe(4);
    // Every payment went out with the customer created for its own key.
    const invokes = history.flatMap((event) => (event.type === 'invoke' ? [event] : []));
    for (const invoke of invokes) {
      const setup = created.find((event) => event.key === invoke.key);
      const id = (JSON.parse(setup?.response?.body ?? '{}') as { id?: string }).id;
      expect(JSON.parse(invoke.request.body ?? '{}')).toMatchObject({ customer: id });
    }
    expect(new Set(target?.paidCustomers)).toEqual(target?.customers);
    // Hooks go straight to the target, never through a lane's proxy.
    for (const event of hooks(history))
      expect(event.request.url.startsWith(target?.url ?? '-')).toBe(true);
    const [runFolder] = await readdir(reportDir);
    const written = await readFile(join(reportDir, runFolder ?? '', 'history.jsonl'), 'utf8');
    expect(written).not.toContain(target?.token);
    expect(written).toContain('"phase":"setup"');
    // `report <dir>` rebuilds the same verdict from the recorded history, hooks included.
    const rebuilt = await rebuildReports({
      reportDir: join(reportDir, runFolder ?? ''),
      reporters: ['json', 'html'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    expect(rebuilt.result.scenarios[0]?.valid).toBe(true);
    expect(rebuilt.result.scenarios[0]?.attempts).toEqual(scenario?.attempts);
    // Each key's timeline marks its own hooks.
    const html = await readFile(join(reportDir, runFolder ?? '', 'index.html'), 'utf8');
    expect(html).toMatch(
      /hook key-setup &#39;create customer&#39; POST http&#58;\/\/127\.0\.0\.1&#58;\d+\/customers at [\d.]+ ms&#58; answered 201/,
    );
  });

  it('fails the scenario clearly when a setup step fails, instead of passing silently', async () => {
    const { scenario, history } = await run(
      'failed-setup',
      `name: failed setup
target: { baseUrl: TARGET, path: /payments }
hooks:
  perKey:
    setup:
      - { name: create customer, path: /nowhere, capture: { customerId: $.id } }
payload: { template: { customer: '{{customerId}}' } }
effects: { http: { url: '/payments?key={{key}}', count: $.count } }
patterns:
  - kind: sequential-duplicates
`,
    );
    expect(scenario?.error?.code).toBe('IDEMPROOF_ERR_HOOK_FAILED');
    expect(scenario?.error?.message).toMatch(
      /key-setup hook 'create customer' \(POST http:\/\/127\.0\.0\.1:\d+\/nowhere\) failed: answered 404, expected a 2xx status/,
    );
    expect(scenario?.valid).toBe('unknown');
    expect(history.some((event) => event.type === 'invoke')).toBe(false);
  });

  it('calls reset hooks before each pattern', async () => {
    const { scenario, history } = await run(
      'resets',
      `name: resets
target: { baseUrl: TARGET, path: /payments }
hooks:
  setup: [{ path: /customers, capture: { customerId: $.id } }]
  reset: [{ method: POST, path: /reset }]
payload: { template: { customer: '{{customerId}}' } }
effects: { http: { url: '/payments?key={{key}}', count: $.count } }
patterns:
  - kind: sequential-duplicates
  - kind: lost-response
  - kind: lost-request
`,
    );
    // The flow target's reset keeps customers: the one from scenario setup stays valid.
    expect(scenario?.valid).toBe(true);
    const resets = hooks(history).filter((event) => event.phase === 'reset');
    expect(resets.map((event) => event.pattern)).toEqual([
      'sequential-duplicates#1',
      'lost-response#1',
      'lost-request#1',
    ]);
    // Each reset comes before its pattern's first attempt.
    for (const reset of resets) {
      const first = history.find(
        (event) => event.type === 'invoke' && event.pattern === reset.pattern,
      );
      expect(first?.index).toBeGreaterThan(reset.index);
    }
    expect(target?.requests.filter((line) => line === 'POST /reset')).toHaveLength(3);
  });

  const DELTA = `name: delta
target: { baseUrl: TARGET, path: /payments }
hooks:
  setup: [{ path: /customers, capture: { customerId: $.id } }]
payload: { template: { customer: '{{customerId}}' } }
effects:
  delta: { http: { url: /counter, count: $.count } }
patterns:
  - kind: sequential-duplicates
    count: 3
  - kind: concurrent-burst
    count: 4
    rounds: 2
`;

  it('passes a correct target with a delta probe on a global counter', async () => {
    const { scenario, history } = await run('delta-good', DELTA);
    expect(scenario?.error).toBeNull();
    expect(scenario?.valid).toBe(true);
    const readings = probes(history);
    expect(readings.filter((probe) => probe.probe === 'baseline')).toHaveLength(3);
    // The counter grows across keys; each key's count is its own delta.
    expect(
      readings.filter((probe) => probe.probe === 'effects').map((probe) => probe.reading),
    ).toEqual([
      { ok: true, count: 1, before: 0, after: 1 },
      { ok: true, count: 1, before: 1, after: 2 },
      { ok: true, count: 1, before: 2, after: 3 },
    ]);
  });

  it('catches a double effect with a delta probe on a global counter', async () => {
    const { scenario } = await run('delta-bad', DELTA, { dedupe: false });
    expect(scenario?.valid).toBe(false);
    const effects = scenario?.checks.find((check) => check.checker === 'effectsPerKey');
    expect(effects?.anomalies.map((anomaly) => anomaly.kind)).toEqual([
      'duplicate-effect',
      'duplicate-effect',
      'duplicate-effect',
    ]);
    expect(effects?.anomalies[0]?.actual).toMatch(/^3 effects/);
  });

  const STATES = `name: states
target: { baseUrl: TARGET, method: PUT, path: '/orders/{{resource}}' }
payload: { template: { action: create } }
state:
  http: { url: '/orders/{{resource}}', select: $.status }
patterns:
  - kind: out-of-order
    operations: [{ action: create }, { action: delete }]
    lateDuplicateOf: 0
`;

  it('judges a state-only scenario whose resource answers 404, as absent', async () => {
    const { scenario, history } = await run('states-good', STATES);
    expect(scenario?.error).toBeNull();
    expect(scenario?.valid).toBe(true);
    expect(probes(history).map((probe) => [probe.label, probe.reading])).toEqual([
      ['in-order state', { ok: true, state: null, absent: true }],
      ['final state', { ok: true, state: null, absent: true }],
    ]);
  });

  it('reports the resource a late duplicate brings back from absent', async () => {
    const { scenario } = await run('states-bad', STATES, { dedupe: false });
    expect(scenario?.valid).toBe(false);
    const check = scenario?.checks.find((entry) => entry.checker === 'outOfOrderFinalState');
    expect(check?.anomalies[0]?.kind).toBe('state-regressed');
    expect(check?.anomalies[0]?.expected).toContain('(absent: 404)');
  });

  const EXPIRY = `name: expiry
target: { baseUrl: TARGET, path: /payments }
hooks:
  setup: [{ path: /customers, capture: { customerId: $.id } }]
payload: { template: { customer: '{{customerId}}' } }
effects: { http: { url: '/payments?key={{key}}', count: $.count } }
overrides: { retentionMs: 800 }
settleMs: 20
patterns:
  - kind: delayed-retries
    delaysMs: [50, 900]
    afterRetention: execute-again
`;

  it('expects a key to execute again after the retention: passes a target that expires keys', async () => {
    const { scenario, history } = await run('expiry-good', EXPIRY, { retentionMs: 800 });
    expect(scenario?.error).toBeNull();
    expect(scenario?.valid).toBe(true);
    expect(probes(history).map((probe) => probe.reading)).toEqual([
      { ok: true, count: 1 },
      { ok: true, count: 2 },
    ]);
  });

  it('fails a target that never executes a key again after the retention', async () => {
    const { scenario } = await run('expiry-bad', EXPIRY);
    expect(scenario?.valid).toBe(false);
    const effects = scenario?.checks.find((check) => check.checker === 'effectsPerKey');
    expect(effects?.anomalies.map((anomaly) => anomaly.kind)).toEqual([
      'not-executed-after-retention',
    ]);
  });

  it('refuses to run, before any traffic, when a variable a request needs is not set', async () => {
    delete process.env.IDEMPROOF_FLOW_UNSET_TOKEN;
    const error = await run(
      'unset-env',
      `name: unset env
target: { baseUrl: TARGET, path: /payments, headers: { Authorization: 'Bearer \${IDEMPROOF_FLOW_UNSET_TOKEN}' } }
payload: { template: { customer: x } }
effects: { http: { url: '/payments?key={{key}}', count: $.count } }
patterns:
  - kind: sequential-duplicates
`,
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_USAGE');
    expect((error as Error).message).toMatch(
      /environment variable IDEMPROOF_FLOW_UNSET_TOKEN is not set \(used at .*unset-env\.yaml:2:\d+ at target\.headers\.Authorization\)/,
    );
    expect(target?.requests).toEqual([]);
  });
});
