import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FlawName } from '../../../src/demo/flaws.js';
import { explore, type ExploreResult } from '../../../src/explore/explore.js';
import type { Schedule } from '../../../src/explore/schedule.js';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { BIN, runCli } from '../../support/cli.js';
import { startDemo } from '../../support/demo-target.js';

const SCENARIO = `name: explore payments
target:
  baseUrl: http://127.0.0.1:1
  path: /payments
  tenants: { alice: { Authorization: Bearer alice }, bob: { Authorization: Bearer bob } }
payload: { template: { amount: 100, currency: EUR, customer: 'cus_{{marker}}' }, different: { amount: 7 } }
effects: { http: { url: '/payments?idempotency_key={{key}}', count: $.count } }
settleMs: 20
patterns: [{ kind: sequential-duplicates }]
`;

describe('property-based exploration against the demo target', () => {
  let folder: string;
  let scenario: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-explore-'));
    scenario = join(folder, 'payments.yaml');
    await writeFile(scenario, SCENARIO);
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function exploreFlaw(
    flaw: FlawName | 'none',
    runs: number,
    extra: { seed?: number; path?: string } = {},
  ): Promise<ExploreResult> {
    const demo = await startDemo({ flaw, processingMs: 20 });
    try {
      return await explore({
        scenario,
        target: demo.target.url,
        toxiproxyUrl: inject('toxiproxyUrl'),
        runs,
        seed: extra.seed ?? 42,
        path: extra.path,
        timeBudgetMs: 120_000,
        reportDir: join(folder, 'reports'),
        out: () => undefined,
        err: () => undefined,
        interactive: false,
      });
    } finally {
      await demo.stop();
    }
  }

  it('finds the check-then-insert race within 100 runs and shrinks it to two concurrent requests', async () => {
    const result = await exploreFlaw('check-then-insert', 100);
    const counterexample = result.counterexample;
    expect(counterexample).not.toBeNull();
    expect(counterexample?.foundAtRun).toBeLessThanOrEqual(100);
    expect(counterexample?.requests).toBeLessThanOrEqual(2);
    expect(counterexample?.schedule.steps).toHaveLength(1);
    expect(counterexample?.steps[0]).toMatch(/^1\. release 2 requests together: key A/);
    expectMinimalRace(counterexample?.schedule);
    expect(counterexample?.violations.map((violation) => violation.checker)).toContain(
      'effectsPerKey',
    );
    expect(counterexample?.reproduced.of).toBe(5);
    expect(counterexample?.reproduced.failed).toBeGreaterThan(0);
    expect(result.replayCommand).toMatch(/--seed 42 --path \d+(:\d+)*/);
    expect(await readdir(result.reportDir ?? '')).toEqual(
      expect.arrayContaining(['index.html', 'junit.xml', 'results.json', 'history.jsonl']),
    );
  });

  /** Exactly two requests on the clean lane, one key, one tenant, the same payload. */
  function expectMinimalRace(schedule: Schedule | undefined): void {
    const requests = schedule?.steps.flatMap((step) => step.requests) ?? [];
    expect(requests).toHaveLength(2);
    expect(requests.map((item) => item.lane)).toEqual(['clean', 'clean']);
    expect(new Set(requests.map((item) => item.tenant)).size).toBe(1);
    expect(new Set(requests.map((item) => item.variant)).size).toBe(1);
    expect(new Set(requests.map((item) => item.key)).size).toBe(1);
  }

  it('shrinks the race in every dimension, from schedules that drew other lanes, tenants, payloads and keys', async () => {
    // Before every choice shrank, seed 4 ended at "key B as bob, original payload, clean lane |
    // key B as bob, different payload, lost-response lane" and seed 2 kept a different payload.
    for (const seed of [4, 2]) {
      const result = await exploreFlaw('check-then-insert', 100, { seed });
      expectMinimalRace(result.counterexample?.schedule);
      expect(result.counterexample?.steps).toEqual([
        '1. release 2 requests together: key A as alice, original payload, clean lane | key A as alice, original payload, clean lane',
      ]);
    }
  });

  it('shrinks the missing payload comparison to two requests, and replays it exactly from seed and path', async () => {
    const found = await exploreFlaw('no-payload-check', 100);
    expect(found.counterexample?.requests).toBe(2);
    expect(found.counterexample?.violations.map((violation) => violation.checker)).toContain(
      'conflictOnMismatch',
    );

    const replayed = await exploreFlaw('no-payload-check', 100, {
      seed: found.seed,
      path: found.counterexample?.path ?? '',
    });
    expect(replayed.counterexample?.schedule).toEqual(found.counterexample?.schedule);
  });

  it('holds the correct demo target through 200 generated schedules', async () => {
    const result = await exploreFlaw('none', 200, { seed: 7 });
    expect(result.counterexample?.steps ?? []).toEqual([]);
    expect(result.runs).toBe(200);
    expect(result.interrupted).toBe(false);
  });

  it('prints a replay command that reproduces the failure from the command line', async () => {
    const demo = await startDemo({ flaw: 'no-payload-check', processingMs: 20 });
    try {
      const args = [
        'explore',
        scenario,
        '--target',
        demo.target.url,
        '--toxiproxy',
        inject('toxiproxyUrl'),
        '--seed',
        '42',
        '--report-dir',
        join(folder, 'cli'),
      ];
      const first = await runCli(args);
      expect(first.code, first.stderr).toBe(1);
      const replay = /replay: idemproof (explore .*)$/m.exec(first.stdout)?.[1];
      expect(replay).toBeDefined();
      const replayArgs = (replay ?? '').split(' ');
      const again = await runCli([
        ...replayArgs,
        '--toxiproxy',
        inject('toxiproxyUrl'),
        '--report-dir',
        join(folder, 'cli'),
      ]);
      expect(again.code, again.stderr).toBe(1);
      const steps = (text: string): string =>
        /Smallest failing schedule:\n([\s\S]*?)\n\n/.exec(text)?.[1] ?? 'none';
      expect(steps(again.stdout)).toBe(steps(first.stdout));
    } finally {
      await demo.stop();
    }
  });

  it('stops at --max-requests and says why', async () => {
    const demo = await startDemo({ processingMs: 20 });
    try {
      const result = await explore({
        scenario,
        target: demo.target.url,
        toxiproxyUrl: inject('toxiproxyUrl'),
        runs: 1000,
        seed: 7,
        limits: { maxRequests: 12 },
        out: () => undefined,
        err: () => undefined,
        interactive: false,
      });
      expect(result.stopped).toMatchObject({ kind: 'limit', limit: 'max-requests' });
      expect(result.interrupted).toBe(true);
      expect(result.counterexample).toBeNull();
    } finally {
      await demo.stop();
    }
  });

  it('Ctrl-C ends an exploration at once with exit 130, saying it was interrupted', async () => {
    const demo = await startDemo({ processingMs: 20 });
    try {
      const child = spawn(process.execPath, [
        BIN,
        'explore',
        scenario,
        '--target',
        demo.target.url,
        '--toxiproxy',
        inject('toxiproxyUrl'),
        '--runs',
        '100000',
        '--time-budget',
        '10m',
      ]);
      let stdout = '';
      let stderr = '';
      let signalled = false;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (!signalled && stderr.includes('limits:')) {
          signalled = true;
          setTimeout(() => child.kill('SIGINT'), 1_500);
        }
      });
      const started = performance.now();
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, stderr).toBe(130);
      expect(stdout).toContain('stopped early: interrupted by SIGINT');
      expect(performance.now() - started).toBeLessThan(20_000);
    } finally {
      await demo.stop();
    }
  });

  it('reaches a dependency through its lane: {{dependency.NAME}} is filled, the proxy removed after', async () => {
    const calls: string[] = [];
    const hooks = createServer((request, response) => {
      calls.push(request.url ?? '');
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    const { port } = hooks.address() as AddressInfo;
    const file = join(folder, 'with-dependency.yaml');
    await writeFile(
      file,
      SCENARIO.replace(
        "customer: 'cus_{{marker}}'",
        "customer: 'cus_{{marker}}', webhook_url: 'http://{{dependency.hooks}}/{{key}}'",
      ).replace(
        'patterns:',
        `dependencies: { hooks: { listen: '127.0.0.1:0', upstream: '127.0.0.1:${port}' } }\npatterns:`,
      ),
    );
    const demo = await startDemo({ flaw: 'none', processingMs: 20 });
    try {
      const result = await explore({
        scenario: file,
        target: demo.target.url,
        toxiproxyUrl: inject('toxiproxyUrl'),
        runs: 3,
        seed: 5,
        timeBudgetMs: 60_000,
        reportDir: join(folder, 'reports'),
        out: () => undefined,
        err: () => undefined,
        interactive: false,
      });
      expect(result.counterexample).toBeNull();
      // The demo called its webhook at the lane's address, once per key that succeeded.
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((url) => /^\/[\w-]+$/.test(url))).toBe(true);
      const proxies = await new ToxiproxyApi(inject('toxiproxyUrl')).listProxies();
      expect(proxies.filter((proxy) => proxy.name.endsWith('_x_dep_hooks'))).toEqual([]);
    } finally {
      await demo.stop();
      await new Promise((resolve) => hooks.close(resolve));
    }
  });
});
