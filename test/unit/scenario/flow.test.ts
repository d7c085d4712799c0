import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { effectsPerKey } from '../../../src/check/effects-per-key.js';
import { replayIdenticalResponses } from '../../../src/check/replay-identical.js';
import { formatValidation, validateFiles } from '../../../src/cli/validate-command.js';
import { isIdemproofError } from '../../../src/errors.js';
import { planScenario } from '../../../src/plan/plan.js';
import type { PatternPlan, Step } from '../../../src/plan/schedule.js';
import { loadScenarioFiles } from '../../../src/scenario/load.js';
import { PROFILES, overrideProfile } from '../../../src/scenario/profile.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';
import { crossFieldProblems } from '../../../src/scenario/cross-field.js';
import { HistoryBuilder, payment } from '../check/history-builder.js';

const BASE = `name: flow
target:
  baseUrl: http://127.0.0.1:8080
  path: /payments
payload:
  template: { customer: '{{customerId}}', amount: 5 }
`;

function scenario(extra: Partial<ScenarioInput>): ReturnType<typeof scenarioSchema.parse> {
  return scenarioSchema.parse({
    name: 'flow test',
    target: { baseUrl: 'http://127.0.0.1:1', path: '/payments' },
    payload: { template: { amount: 5 } },
    effects: { http: { url: '/payments?key={{key}}' } },
    patterns: [{ kind: 'sequential-duplicates', count: 2 }],
    ...extra,
  });
}

const kinds = (plan: PatternPlan | undefined): string[] =>
  (plan?.steps ?? []).map((step: Step) =>
    step.kind === 'hook' ? `hook:${step.phase}` : step.kind,
  );

describe('flows: loading', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-flow-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function load(text: string): Promise<string> {
    const path = join(folder, 'flow.yaml');
    await writeFile(path, text);
    return loadScenarioFiles([path]).then(
      () => 'loaded',
      (error: unknown) => (isIdemproofError(error) ? error.message : String(error)),
    );
  }

  it('accepts captured names in later templates, per key and scenario-wide', async () => {
    const text = `${BASE}hooks:
  setup:
    - { name: login, path: /login, capture: { token: $.token } }
  reset:
    - { method: POST, path: /reset, headers: { Authorization: 'Bearer {{token}}' } }
  perKey:
    setup:
      - { path: /customers, body: { name: 'c-{{marker}}' }, capture: { customerId: $.id } }
    teardown:
      - { method: DELETE, path: '/customers/{{customerId}}' }
effects:
  http: { url: '/payments?customer={{customerId}}&t={{token}}' }
patterns:
  - kind: sequential-duplicates
`;
    expect(await load(text)).toBe('loaded');
  });

  it('rejects a template variable no step captures, with file:line:col', async () => {
    const text = `${BASE}effects:
  http: { url: '/payments?key={{key}}' }
patterns:
  - kind: sequential-duplicates
`;
    const message = await load(text);
    expect(message).toMatch(
      /flow\.yaml:6:25 at payload\.template\.customer: unknown template variable \{\{customerId\}\}/,
    );
    expect(message).toContain('no earlier hook step captures it');
  });

  it('rejects per-key variables in scenario-wide hooks, and captures that reuse a name', async () => {
    const text = `name: flow
target: { baseUrl: 'http://127.0.0.1:8080', path: /payments }
payload: { template: { amount: 5 } }
hooks:
  reset:
    - { path: '/reset/{{marker}}' }
  setup:
    - { path: /a, capture: { key: $.id, id: $.id } }
    - { path: /b, capture: { id: $.id } }
effects:
  http: { url: '/payments?key={{key}}' }
patterns:
  - kind: sequential-duplicates
`;
    const message = await load(text);
    expect(message).toMatch(
      /:6:\d+ at hooks\.reset\[0\]\.path: unknown template variable \{\{marker\}\} \(a scenario-wide hook runs before any key exists\)/,
    );
    expect(message).toMatch(
      /at hooks\.setup\[0\]\.capture\.key: \{\{key\}\} is a built-in variable/,
    );
    expect(message).toMatch(
      /at hooks\.setup\[1\]\.capture\.id: \{\{id\}\} is captured by an earlier step/,
    );
  });

  it('lets effects out only when every pattern is judged without them, naming the one that needs them', async () => {
    const stateOnly = `name: states
target: { baseUrl: 'http://127.0.0.1:8080', path: '/orders/{{resource}}' }
payload: { template: { status: paid } }
state:
  http: { url: '/orders/{{resource}}', select: $.status }
patterns:
  - kind: out-of-order
    operations: [{ status: paid }, { status: shipped }]
`;
    expect(await load(stateOnly)).toBe('loaded');
    const message = await load(`${stateOnly}  - kind: lost-response\n    name: lost one\n`);
    expect(message).toMatch(
      /:9:\d+ at patterns\[1\]\.kind: lost-response \(pattern 2, 'lost one'\) counts effects per key: add effects/,
    );
  });

  it('requires concurrency 1 and separately counted keys with a delta probe', async () => {
    const text = `name: delta
target: { baseUrl: 'http://127.0.0.1:8080', path: /payments }
payload: { template: { amount: 5 } }
effects:
  delta: { http: { url: /counter, count: $.count } }
concurrency: 2
patterns:
  - kind: sequential-duplicates
  - kind: distinct-keys
`;
    const message = await load(text);
    expect(message).toMatch(/:6:\d+ at concurrency: a delta effect probe reads one counter/);
    expect(message).toMatch(
      /at patterns\[1\]\.kind: distinct-keys .* one global counter cannot tell apart/,
    );
  });

  it('needs a declared retention, and a retry past it, for execute-again', async () => {
    const text = (overrides: string, delays: string): string => `name: expiry
target: { baseUrl: 'http://127.0.0.1:8080', path: /payments }
payload: { template: { amount: 5 } }
effects: { http: { url: '/payments?key={{key}}' } }
${overrides}patterns:
  - kind: delayed-retries
    delaysMs: ${delays}
    afterRetention: execute-again
`;
    expect(await load(text('', '[100]'))).toMatch(
      /at patterns\[0\]\.afterRetention: execute-again needs a declared retention/,
    );
    expect(await load(text('overrides: { retentionMs: 500 }\n', '[100, 200]'))).toMatch(
      /at patterns\[0\]\.delaysMs: execute-again needs a retry after the retention of 500 ms: the delays add up to 300 ms/,
    );
    expect(await load(text('overrides: { retentionMs: 500 }\n', '[100, 600]'))).toBe('loaded');
  });

  it('lists unset ${ENV} variables as warnings of validate, with file:line:col, in text and JSON', async () => {
    delete process.env.IDEMPROOF_FLOW_UNSET_A;
    process.env.IDEMPROOF_FLOW_SET_B = 'set';
    try {
      const path = join(folder, 'env.yaml');
      await writeFile(
        path,
        `name: env
target:
  baseUrl: http://127.0.0.1:8080
  path: /payments
  headers: { Authorization: 'Bearer \${IDEMPROOF_FLOW_UNSET_A}', X-B: '\${IDEMPROOF_FLOW_SET_B}' }
payload: { template: { note: 'literal \${NOT_A_VARIABLE}' } }
hooks:
  setup: [{ path: /login, headers: { X-Key: '\${IDEMPROOF_FLOW_UNSET_A}' } }]
effects:
  sql: { url: '\${IDEMPROOF_FLOW_UNSET_A}', query: 'select 1' }
patterns:
  - kind: sequential-duplicates
`,
      );
      const [result] = await validateFiles([path]);
      expect(result?.valid).toBe(true);
      const warnings = result?.scenarios[0]?.warnings ?? [];
      expect(warnings).toHaveLength(3);
      expect(warnings[0]).toMatch(
        /^environment variable IDEMPROOF_FLOW_UNSET_A is not set \(used at .*env\.yaml:5:\d+ at target\.headers\.Authorization\)$/,
      );
      expect(warnings.join('\n')).toMatch(/env\.yaml:8:\d+ at hooks\.setup\[0\]\.headers\.X-Key/);
      expect(warnings.join('\n')).toMatch(/env\.yaml:10:\d+ at effects\.sql\.url/);
      expect(formatValidation(result === undefined ? [] : [result])).toContain(
        '    warning: environment variable IDEMPROOF_FLOW_UNSET_A is not set',
      );
      const json = JSON.parse(JSON.stringify(result)) as typeof result;
      expect(json?.scenarios[0]?.warnings).toEqual(warnings);
    } finally {
      delete process.env.IDEMPROOF_FLOW_SET_B;
    }
  });

  it('bounds bursts at 1000 rounds and counts per-key hooks in the plan limit', () => {
    const rounds = (value: number) =>
      scenarioSchema.safeParse({
        name: 'b',
        target: { baseUrl: 'http://127.0.0.1:1', path: '/p' },
        payload: { template: {} },
        effects: { http: { url: '/c' } },
        patterns: [{ kind: 'concurrent-burst', count: 2, rounds: value }],
      }).success;
    expect(rounds(1000)).toBe(true);
    expect(rounds(1001)).toBe(false);
    const hooked = scenario({
      patterns: [{ kind: 'concurrent-burst', count: 64, rounds: 1000 }],
      hooks: { perKey: { setup: [{ path: '/a' }, { path: '/b' }] } },
    });
    expect(crossFieldProblems(hooked).map((problem) => problem.path.join('.'))).toContain(
      'hooks.perKey',
    );
  });
});

describe('flows: planning', () => {
  it('puts reset first, per-key setup and the delta baseline before each first attempt, teardown last', () => {
    const input = scenario({
      effects: { delta: { http: { url: '/counter', count: '$.count' } } },
      hooks: {
        reset: [{ path: '/reset' }],
        perKey: {
          setup: [{ path: '/customers', capture: { customerId: '$.id' } }],
          teardown: [{ path: '/x' }],
        },
      },
      patterns: [
        { kind: 'sequential-duplicates', count: 2, settleMs: 7, timeoutMs: 1234 },
        { kind: 'concurrent-burst', count: 3, rounds: 2 },
      ],
    });
    const [duplicates, burst] = planScenario(input, PROFILES.default, { seed: 1, run: 'r' });
    expect(kinds(duplicates)).toEqual([
      'hook:reset',
      'hook:key-setup',
      'probe-baseline',
      'send',
      'send',
      // The liveness follow-up: it sends only if the key is left in progress.
      'follow-up',
      'sleep',
      'probe-effects',
      'hook:key-teardown',
    ]);
    expect(duplicates?.steps).toContainEqual({ kind: 'sleep', ms: 7 });
    expect(duplicates?.steps.find((step) => step.kind === 'send')).toMatchObject({
      timeoutMs: 1234,
    });
    expect(kinds(burst)).toEqual([
      'hook:reset',
      'hook:key-setup',
      'probe-baseline',
      'burst',
      'sleep',
      'probe-effects',
      'hook:key-setup',
      'probe-baseline',
      'burst',
      'sleep',
      'probe-effects',
      'hook:key-teardown',
      'hook:key-teardown',
    ]);
  });

  it('leaves captured names in payloads for the executor to fill', () => {
    const input = scenario({
      payload: { template: { customer: '{{customerId}}', note: 'n-{{marker}}' } },
      hooks: { perKey: { setup: [{ path: '/customers', capture: { customerId: '$.id' } }] } },
    });
    const [plan] = planScenario(input, PROFILES.default, { seed: 1, run: 'r' });
    expect(plan?.operations[0]?.payload).toEqual({ customer: '{{customerId}}', note: 'n-r-1' });
  });

  it('plans no effect readings without an effect probe (state-only scenarios)', () => {
    const input = scenarioSchema.parse({
      name: 'state only',
      target: { baseUrl: 'http://127.0.0.1:1', path: '/orders/{{resource}}' },
      payload: { template: {} },
      state: { http: { url: '/orders/{{resource}}' } },
      patterns: [{ kind: 'out-of-order', operations: [{ s: 1 }, { s: 2 }] }],
    });
    const [plan] = planScenario(input, PROFILES.default, { seed: 1, run: 'r' });
    expect(kinds(plan)).not.toContain('probe-effects');
    expect(kinds(plan)).toContain('probe-state');
  });

  it('sends retries past the retention only with execute-again, reading effects before it ends', () => {
    const profile = overrideProfile(PROFILES.default, { retentionMs: 300 });
    const plan = (afterRetention: 'skip' | 'execute-again') =>
      planScenario(
        scenario({
          patterns: [{ kind: 'delayed-retries', delaysMs: [100, 400], afterRetention }],
        }),
        profile,
        { seed: 1, run: 'r' },
      )[0];
    const skipped = plan('skip');
    expect(skipped?.steps.filter((step) => step.kind === 'send')).toHaveLength(2);
    expect(skipped?.notes[0]).toContain('left out');
    const again = plan('execute-again');
    const sent = again?.steps.flatMap((step) => (step.kind === 'send' ? [step] : [])) ?? [];
    expect(sent.map((step) => step.afterRetention ?? false)).toEqual([false, false, true]);
    expect(
      again?.steps.flatMap((step) => (step.kind === 'probe-effects' ? [step.label] : [])),
    ).toEqual(['before the retention ends', 'after delayed retries']);
  });

  it('refuses to plan a delta probe over keys that interleave', () => {
    const input = scenario({
      effects: { delta: { http: { url: '/counter' } } },
      patterns: [{ kind: 'lost-request' }],
    });
    // lost-request counts its key twice, both after its own sends: fine.
    expect(() => planScenario(input, PROFILES.default, { seed: 1, run: 'r' })).not.toThrow();
  });
});

describe('flows: judging keys that execute again after the retention', () => {
  const context = { profile: PROFILES.default };

  function history(before: number, after: number, lateStatus = 201) {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.send({ label: 'retry 1' }, { status: 201, body: payment('pay_1') });
    h.effects(before);
    h.send(
      { label: 'retry 2, past the retention', afterRetention: true },
      {
        status: lateStatus,
        body: payment('pay_2'),
      },
    );
    h.effects(after);
    return h.history();
  }

  it('holds with one effect before and one after, and the new response is no replay', () => {
    expect(effectsPerKey(history(1, 2), context)).toMatchObject({ valid: true, anomalies: [] });
    expect(replayIdenticalResponses(history(1, 2), context).valid).not.toBe(false);
  });

  it('reports a key that never executes again after the retention', () => {
    const result = effectsPerKey(history(1, 1), context);
    expect(result.valid).toBe(false);
    expect(result.anomalies.map((anomaly) => anomaly.kind)).toEqual([
      'not-executed-after-retention',
    ]);
    expect(result.anomalies[0]?.message).toContain('still replayed after the declared retention');
  });

  it('still reports a duplicate before the retention ends', () => {
    const result = effectsPerKey(history(2, 3), context);
    expect(result.anomalies.map((anomaly) => anomaly.kind)).toEqual(['duplicate-effect']);
    expect(result.anomalies[0]?.expected).toBe('exactly 1 effect before the retention ended');
  });
});
