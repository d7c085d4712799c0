import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunResult } from '../../../src/run/result.js';
import { runSuite } from '../../../src/run/run.js';
import { newKeyedState, startH2Target, type H2Target } from '../../support/h2-target.js';

/**
 * A whole YAML scenario against a target that speaks only cleartext HTTP/2 (its effect probe
 * goes to an HTTP/1.1 port sharing its state): every attempt, burst and fault lane over h2c.
 */
const scenario = (probePort: number): string => `name: h2c things
target: { baseUrl: http://127.0.0.1:1, path: /things, http: h2c }
payload: { template: { amount: 100, note: 'n-{{marker}}' } }
effects: { http: { url: 'http://127.0.0.1:${probePort}/things?key={{key}}', count: $.count } }
settleMs: 0
patterns:
  - { kind: sequential-duplicates, count: 3, lanes: [clean, slow-response] }
  - { kind: concurrent-burst, count: 8, rounds: 2 }
  - { kind: lost-request }
  - { kind: lost-response, lane: blackhole }
`;

describe('a scenario with target.http: h2c', () => {
  let folder: string;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-h2c-'));
  });
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await rm(folder, { recursive: true, force: true });
  });

  /** Runs the scenario against a fresh h2c target; returns the result and the target. */
  async function run(flawed: boolean): Promise<{ result: RunResult; target: H2Target }> {
    const state = newKeyedState(flawed);
    const target = await startH2Target({ protocol: 'h2c', state });
    const probe = await startH2Target({ protocol: 'http1', state });
    stops.push(
      () => target.stop(),
      () => probe.stop(),
    );
    const name = flawed ? 'flawed' : 'correct';
    await writeFile(join(folder, `${name}.yaml`), scenario(probe.port));
    const { result } = await runSuite({
      paths: [join(folder, `${name}.yaml`)],
      target: `http://127.0.0.1:${target.port}`,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, `reports-${name}`),
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    return { result, target };
  }

  it('runs every pattern over HTTP/2 and finds a correct target correct', async () => {
    const { result, target } = await run(false);
    expect(result.valid, JSON.stringify(result.scenarios[0]?.checks).slice(0, 3000)).toBe(true);
    expect(result.scenarios[0]?.transport?.protocol).toBe('h2c');
    const keys = [...target.state.arrivals.keys()];
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const key of keys) expect(target.state.effects.get(key) ?? 0).toBeLessThanOrEqual(1);
    const burstKeys = keys.filter((key) => (target.state.arrivals.get(key) ?? []).length === 8);
    expect(burstKeys).toHaveLength(2);
    // Sessions: one per burst, one per faulted attempt, one shared by the clean attempts, so
    // far fewer than requests; plus the three that measure the opening for the blackhole lane.
    const requests = keys.reduce(
      (sum, key) => sum + (target.state.arrivals.get(key) ?? []).length,
      0,
    );
    expect(target.state.connections - 3).toBeLessThan(requests / 2);
  });

  it('catches the double effect of a check-then-insert target with single-packet bursts', async () => {
    const { result, target } = await run(true);
    expect(result.valid).toBe(false);
    const failed = (result.scenarios[0]?.checks ?? []).filter((check) => check.valid === false);
    expect(failed.map((check) => check.checker)).toContain('effectsPerKey');
    const doubled = [...target.state.effects.values()].filter((count) => count > 1);
    expect(doubled.length).toBeGreaterThanOrEqual(1);
  });
});
