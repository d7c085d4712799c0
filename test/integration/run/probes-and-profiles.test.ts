import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSuite } from '../../../src/run/run.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

const PAYMENT = `payload: { template: { amount: 100, currency: EUR, customer: 'cus_{{marker}}' }, different: { amount: 7 } }`;

describe('effect probes and profiles, end to end', () => {
  let folder: string;
  let demo: RunningDemo;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-probes-'));
    demo = await startDemo({ processingMs: 20 });
  });
  afterAll(async () => {
    await demo.stop();
    await rm(folder, { recursive: true, force: true });
  });

  async function run(
    name: string,
    yaml: string,
    options: { profile?: string; env?: Record<string, string> } = {},
  ) {
    const path = join(folder, `${name}.yaml`);
    await writeFile(path, yaml);
    const saved = { ...process.env };
    Object.assign(process.env, options.env ?? {});
    try {
      return await runSuite({
        paths: [path],
        target: demo.target.url,
        profile: options.profile,
        toxiproxyUrl: inject('toxiproxyUrl'),
        reportDir: join(folder, 'reports'),
        reporters: ['json'],
        out: () => undefined,
        err: () => undefined,
        interactive: false,
      });
    } finally {
      process.env = saved;
    }
  }

  it('counts effects with a SQL query through pg, the connection string taken from the environment', async () => {
    const { result, history } = await run(
      'sql',
      `name: sql probe
target: { baseUrl: http://127.0.0.1:1, path: /payments }
${PAYMENT}
effects:
  sql:
    url: '\${IDEMPROOF_TEST_DB}'
    query: 'select count(*) from payments where idempotency_key = $1'
    params: [key]
patterns:
  - kind: sequential-duplicates
    lanes: [clean, lost-response]
  - kind: concurrent-burst
    count: 6
    rounds: 2
  - kind: lost-response
`,
      { env: { IDEMPROOF_TEST_DB: demo.database.url } },
    );
    const scenario = result.scenarios[0];
    expect(scenario?.error).toBeNull();
    expect(scenario?.valid).toBe(true);
    const readings = history.filter((event) => event.type === 'probe');
    expect(readings.length).toBe(4);
    for (const reading of readings) {
      expect(reading.type === 'probe' && reading.source).toBe('sql');
      expect(reading.type === 'probe' && reading.reading).toEqual({ ok: true, count: 1 });
    }
  });

  it('records when each request of a last-byte burst was released, and nothing for plain bursts', async () => {
    const { result, history } = await run(
      'bursts',
      `name: bursts
target: { baseUrl: http://127.0.0.1:1, path: /payments }
${PAYMENT}
effects: { http: { url: '/payments?idempotency_key={{key}}', count: $.count } }
patterns:
  - { kind: concurrent-burst, count: 8, rounds: 1 }
  - { kind: concurrent-burst, count: 8, rounds: 1, release: plain }
`,
    );
    expect(result.scenarios[0]?.valid).toBe(true);
    const ops = new Map(
      history.flatMap((event) =>
        event.type === 'invoke' ? [[event.op, event.pattern] as const] : [],
      ),
    );
    const completions = history.filter(
      (event) => event.type === 'ok' || event.type === 'fail' || event.type === 'info',
    );
    const released = (pattern: string) =>
      completions
        .filter((event) => ops.get(event.op) === pattern)
        .map((event) => ('releasedAt' in event ? event.releasedAt : undefined));
    const synced = released('concurrent-burst#1');
    expect(synced).toHaveLength(8);
    for (const at of synced) expect(at).toEqual(expect.any(Number));
    expect(released('concurrent-burst#2')).toEqual(Array.from({ length: 8 }, () => undefined));
  });

  it('stops a scenario with an infrastructure error when the effect probe fails before traffic', async () => {
    const { result, history } = await run(
      'broken-probe',
      `name: broken probe
target: { baseUrl: http://127.0.0.1:1, path: /payments }
${PAYMENT}
effects: { http: { url: '/no-such-endpoint?k={{key}}', count: $.count } }
patterns: [{ kind: sequential-duplicates }]
`,
    );
    expect(result.scenarios[0]?.error).toMatchObject({ code: 'IDEMPROOF_ERR_PROBE_FAILED' });
    expect(result.scenarios[0]?.error?.message).toContain('answered 404');
    expect(history.filter((event) => event.type === 'invoke')).toEqual([]);
  });

  const MISMATCH = `name: mismatch under a profile
target: { baseUrl: http://127.0.0.1:1, path: /payments }
${PAYMENT}
effects: { http: { url: '/payments?idempotency_key={{key}}', count: $.count } }
keylessEffects: { http: { url: '/payments?customer=cus_{{marker}}', count: $.count } }
patterns:
  - kind: payload-mismatch
    concurrent: 2
  - kind: missing-key
  - kind: sequential-duplicates
`;

  it('holds the demo (409 on mismatch, 400 without a key) to the default profile', async () => {
    const { result } = await run('default-profile', MISMATCH);
    expect(
      result.scenarios[0]?.checks
        .filter((check) => check.valid !== true)
        .map((check) => check.checker),
    ).toEqual([]);
  });

  it('holds it to the IETF draft with --profile ietf: 409 instead of 422 is a violation', async () => {
    const { result } = await run('ietf-profile', MISMATCH, { profile: 'ietf' });
    const checks = result.scenarios[0]?.checks ?? [];
    const mismatch = checks.find((check) => check.checker === 'conflictOnMismatch');
    expect(mismatch?.valid).toBe(false);
    expect(mismatch?.anomalies.map((anomaly) => anomaly.kind)).toContain('mismatch-wrong-status');
    expect(mismatch?.anomalies[0]?.expected).toContain('422');
    expect(checks.find((check) => check.checker === 'missingKeyRefused')?.valid).toBe(true);
  });

  it('holds it to Stripe with --profile stripe: 409 instead of 400, and keys are optional there', async () => {
    const { result } = await run('stripe-profile', MISMATCH, { profile: 'stripe' });
    const byName = new Map(
      (result.scenarios[0]?.checks ?? []).map((check) => [check.checker, check]),
    );
    expect(byName.get('conflictOnMismatch')?.valid).toBe(false);
    // Stripe processes a request without a key; the demo refuses it with 400.
    expect(byName.get('missingKeyRefused')?.valid).toBe(false);
    // The demo marks replays with Idempotent-Replayed: true, as Stripe does.
    expect(byName.get('replayIdenticalResponses')?.valid).toBe(true);
  });
});
