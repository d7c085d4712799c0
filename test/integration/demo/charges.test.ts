import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { headerValue, type HistoryEvent } from '../../../src/history/events.js';
import { runSuite } from '../../../src/run/run.js';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from '../../support/tls-ca.js';

/**
 * The Stripe-style, form-encoded API of the demo target: the shipped scenario
 * (scenarios/demo/charges.yaml) through every fault lane over HTTPS, and a mismatch test for
 * each body encoding and for query, path and header differences against the demo's
 * fingerprinting endpoint, /v1/echo. A demo target that does not check fingerprints
 * (flaw no-payload-check) is the control: there the mismatch test must fail.
 */

type Invoke = Extract<HistoryEvent, { type: 'invoke' }>;

/** Each attempt's invoke with its completion. */
function attempts(history: readonly HistoryEvent[]): { invoke: Invoke; done: HistoryEvent }[] {
  const invokes = new Map<string, Invoke>();
  const rows: { invoke: Invoke; done: HistoryEvent }[] = [];
  for (const event of history) {
    if (event.type === 'invoke') invokes.set(event.op, event);
    if (event.type === 'ok' || event.type === 'fail' || event.type === 'info') {
      const invoke = invokes.get(event.op);
      if (invoke !== undefined) rows.push({ invoke, done: event });
    }
  }
  return rows;
}

const MISMATCH_BODIES: Record<string, string> = {
  json: `{ amount: 5, note: 'n-{{marker}}' }`,
  form: `{ amount: 2000, metadata: { order_id: '{{n}}' } }`,
  multipart: `{ title: 't-{{marker}}', upload: { $base64: AAEC/w==, filename: a.bin } }`,
  text: `'hello {{marker}}'`,
  binary: `{ $base64: AAEC/w== }`,
};

const DIFFERENCES: Record<string, string> = {
  query: `{ query: { page: '2' } }`,
  path: `{ path: /v1/echo/other }`,
  headers: `{ headers: { X-Account: acct_2 } }`,
};

function mismatchScenario(name: string, baseUrl: string, payload: string): string {
  return `name: ${name}
target:
  baseUrl: ${baseUrl}
  path: /v1/echo/things
  query: { page: '1' }
  headers: { X-Account: acct_1 }
  tls: { ca: ca.pem }
# Scenarios of one run share the run id: each keeps its keys apart with a prefix.
key: { template: '${name.replace(/\W+/g, '-')}-{{run}}-{{n}}' }
payload: ${payload}
effects: { http: { url: '/v1/charges?idempotency_key={{key}}', count: $.count } }
profile: stripe
# The demo's echo fingerprints X-Account too: a change of it alone is a mismatch to refuse.
overrides: { fingerprint: { headers: [X-Account] } }
settleMs: 50
patterns:
  - kind: payload-mismatch
    concurrent: 2
`;
}

describe('the Stripe-style demo API', () => {
  let ca: TestCertificateAuthority;
  let demo: RunningDemo;
  let careless: RunningDemo;

  beforeAll(async () => {
    ca = await createTestCertificateAuthority({ hosts: ['localhost'] });
    const tls = { cert: ca.serverCert, key: ca.serverKey };
    [demo, careless] = await Promise.all([
      startDemo({ tls }),
      startDemo({ tls, flaw: 'no-payload-check' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([demo.stop(), careless.stop()]);
    await ca.remove();
  });

  async function run(files: Record<string, string>, target?: string) {
    const paths: string[] = [];
    for (const [name, text] of Object.entries(files)) {
      paths.push(join(ca.files.dir, name));
      await writeFile(join(ca.files.dir, name), text);
    }
    return runSuite({
      paths,
      ...(target === undefined ? {} : { target }),
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(ca.files.dir, 'reports'),
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      progress: () => undefined,
      interactive: false,
    });
  }

  it('holds every check of scenarios/demo/charges.yaml through every lane over HTTPS', async () => {
    expect(demo.target.url).toMatch(/^https:\/\/localhost:\d+$/);
    const shipped = await readFile(join(PACKAGE_ROOT, 'scenarios', 'demo', 'charges.yaml'), 'utf8');
    const yaml = shipped.replace(
      /^ {2}baseUrl: .*$/m,
      `  baseUrl: ${demo.target.url}\n  tls: { ca: ca.pem }`,
    );
    expect(yaml).toContain('tls: { ca: ca.pem }');
    const { result, history } = await run({ 'charges.yaml': yaml });
    const scenario = result.scenarios[0];
    expect(scenario?.error).toBeNull();
    const failing = scenario?.checks.filter((check) => check.valid !== true) ?? [];
    expect(
      failing.map(
        (check) => `${check.checker}: ${check.anomalies.map((a) => a.message).join(' | ')}`,
      ),
    ).toEqual([]);
    expect(scenario?.valid).toBe(true);

    const rows = attempts(history);
    expect(new Set(rows.map((row) => row.invoke.lane))).toEqual(
      new Set([
        'clean',
        'lost-response',
        'slow-response',
        'blackhole',
        'lost-request',
        'slow-request',
      ]),
    );
    // Form bodies with Stripe's brackets went out; the first attempt alone had X-Client-Retry: false.
    const first = rows[0]?.invoke;
    expect(headerValue(first?.request.headers ?? [], 'content-type')).toBe(
      'application/x-www-form-urlencoded',
    );
    expect(first?.request.body).toMatch(/metadata\[order_id\]=\d+&metadata\[marker\]=/);
    expect(first?.request.url).toMatch(/\/v1\/charges\?source=idemproof-/);
    // (A liveness follow-up, sent after an unknown outcome, is a retry too, and left out here.)
    const retryHeaders = rows
      .filter(
        (row) =>
          row.invoke.patternKind === 'sequential-duplicates' && row.invoke.label !== 'follow-up',
      )
      .map((row) => headerValue(row.invoke.request.headers, 'X-Client-Retry'));
    expect(retryHeaders).toEqual(['false', 'true', 'true', 'true']);
    // Replays say so; the mismatches got Stripe's 400 idempotency_error.
    const answered = rows.flatMap(({ invoke, done }) =>
      done.type === 'ok' ? [{ invoke, done }] : [],
    );
    const replays = answered.filter(
      (row) => row.invoke.label.startsWith('retry') && row.invoke.patternKind === 'lost-response',
    );
    expect(replays.length).toBeGreaterThan(0);
    for (const row of replays)
      expect(headerValue(row.done.response.headers, 'idempotent-replayed')).toBe('true');
    const mismatches = answered.filter((row) => row.invoke.variant === 'different');
    expect(mismatches.length).toBe(5);
    for (const row of mismatches) {
      expect(row.done.response.status).toBe(400);
      expect(JSON.parse(row.done.response.body)).toMatchObject({
        error: { type: 'idempotency_error' },
      });
    }
  });

  it('refuses the different request of each body encoding, and of a query, path or header change', async () => {
    const files: Record<string, string> = {};
    for (const [encoding, template] of Object.entries(MISMATCH_BODIES)) {
      files[`mismatch-${encoding}.yaml`] = mismatchScenario(
        `mismatch ${encoding}`,
        demo.target.url,
        `{ encoding: ${encoding}, template: ${template} }`,
      );
    }
    for (const [part, different] of Object.entries(DIFFERENCES)) {
      files[`mismatch-${part}.yaml`] = mismatchScenario(
        `mismatch ${part}`,
        demo.target.url,
        `{ encoding: none, different: ${different} }`,
      );
    }
    const { result, history } = await run(files);
    const verdicts = Object.fromEntries(
      result.scenarios.map((scenario) => [
        scenario.name,
        scenario.error?.message ?? scenario.valid,
      ]),
    );
    expect(verdicts).toEqual(
      Object.fromEntries(
        Object.keys(files).map((file) => [
          file.replace('mismatch-', 'mismatch ').replace('.yaml', ''),
          true,
        ]),
      ),
    );
    const rows = attempts(history);
    for (const scenario of result.scenarios) {
      // Each different request was judged (none fell outside the profile's fingerprint).
      const judged = scenario.checks.find((check) => check.checker === 'conflictOnMismatch');
      expect(judged?.checked, scenario.name).toBeGreaterThan(0);
      const statuses = rows
        .filter((row) => row.invoke.scenario === scenario.name)
        .map((row) => [row.invoke.variant, row.done.type === 'ok' ? row.done.response.status : 0]);
      // The original and its repeats: 200 (then replays); every different one: 400.
      expect(
        statuses.filter(([variant]) => variant === 'different'),
        scenario.name,
      ).toEqual([
        ['different', 400],
        ['different', 400],
        ['different', 400],
      ]);
      expect(
        statuses.filter(([variant]) => variant === 'original').map(([, status]) => status),
      ).toEqual([200, 200, 200, 200]);
    }
  });

  it('fails the mismatch test against a target that ignores the fingerprint (the control)', async () => {
    const files: Record<string, string> = {
      'careless-binary.yaml': mismatchScenario(
        'careless binary',
        careless.target.url,
        `{ encoding: binary, template: ${MISMATCH_BODIES.binary ?? ''} }`,
      ),
      'careless-query.yaml': mismatchScenario(
        'careless query',
        careless.target.url,
        `{ encoding: none, different: ${DIFFERENCES.query ?? ''} }`,
      ),
    };
    const { result } = await run(files);
    for (const scenario of result.scenarios) {
      expect(scenario.error).toBeNull();
      expect(scenario.valid, scenario.name).toBe(false);
      expect(
        scenario.checks.filter((check) => check.valid === false).map((check) => check.checker),
      ).toContain('conflictOnMismatch');
    }
  });
});
