import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Flaw } from '../../../src/demo/flaws.js';
import type { HistoryEvent, ProcessEvent } from '../../../src/history/events.js';
import { runSuite } from '../../../src/run/run.js';
import {
  startDemoProcessOnTestDatabase,
  type RunningDemoProcess,
} from '../../support/demo-process.js';

/**
 * Crash points and cold-start replays against the demo target running as a child process on
 * a real PostgreSQL: the correct demo holds at every point, and each process flaw is caught.
 */

const processEvents = (history: readonly HistoryEvent[]): ProcessEvent[] =>
  history.filter((event): event is ProcessEvent => event.type === 'process');

/** A 300 ms provider call, so requests are in flight long enough to crash during them. */
const SLOW = { 'Demo-Provider-Delay-Ms': '300' };

describe('process faults: crash and restart the target, retry', () => {
  let folder: string;
  const started: RunningDemoProcess[] = [];
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-process-faults-'));
  });
  afterAll(async () => {
    for (const demo of started.splice(0)) await demo.stop().catch(() => undefined);
    await rm(folder, { recursive: true, force: true });
  });

  async function run(name: string, flaw: Flaw, patterns: string, workers = 1) {
    const demo = await startDemoProcessOnTestDatabase({ flaw, workers });
    started.push(demo);
    const path = join(folder, `${name}.yaml`);
    await writeFile(path, demo.scenario(name, patterns, SLOW));
    const outcome = await runSuite({
      paths: [path],
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, `reports-${name}`),
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    const scenario = outcome.result.scenarios[0];
    if (scenario === undefined) throw new Error('no scenario result');
    const failed = scenario.checks.filter((check) => check.valid === false).map((c) => c.checker);
    return { ...outcome, scenario, failed, demo };
  }

  it('the correct demo holds at every crash point and across a cold-start replay', async () => {
    const { scenario, history, failed } = await run(
      'correct-crashes',
      'none',
      [
        '  - { kind: crash, at: after-effect, retries: 2 }',
        '  - { kind: crash, at: between-bursts, count: 4 }',
        '  - { kind: crash, at: during-in-flight-duplicate, retries: 2 }',
        '  - { kind: cold-start-replay, count: 3 }',
      ].join('\n'),
    );
    expect(scenario.error).toBeNull();
    expect(failed).toEqual([]);
    expect(scenario.valid).toBe(true);
    const events = processEvents(history);
    // Four restarts, each a kill, a start and a ready.
    expect(events.map((event) => event.action)).toEqual(
      Array.from({ length: 4 }, () => ['kill', 'start', 'ready']).flat(),
    );
    expect(events[0]?.detail).toMatch(/^kill -9 .*: exit 0 in \d+ ms \(crash after the effect/);
    // The in-flight duplicate crash happened while the original was still running.
    expect(events[6]?.detail).toContain('the duplicate had answered while the first');
  });

  it('a cluster of two workers holds too: the primary is killed, PostgreSQL keeps the keys', async () => {
    const { scenario, failed, history } = await run(
      'correct-cluster',
      'none',
      ['  - { kind: crash, at: after-effect }', '  - { kind: cold-start-replay, count: 4 }'].join(
        '\n',
      ),
      2,
    );
    expect(scenario.error).toBeNull();
    expect(failed).toEqual([]);
    expect(processEvents(history).filter((event) => event.action === 'ready')).toHaveLength(2);
  });

  it('crash-stuck: a key reserved by the crashed process answers in progress forever', async () => {
    const { failed, scenario } = await run(
      'crash-stuck',
      'crash-stuck',
      '  - { kind: crash, at: during-in-flight-duplicate, retries: 2 }',
    );
    expect(scenario.error).toBeNull();
    expect(failed).toContain('keyNotStuck');
  });

  it('cache-only-dedupe: the retry after a crash and the replays after a cold start run again', async () => {
    const { failed, scenario, history } = await run(
      'cache-only',
      'cache-only-dedupe',
      ['  - { kind: crash, at: after-effect }', '  - { kind: cold-start-replay, count: 3 }'].join(
        '\n',
      ),
    );
    expect(scenario.error).toBeNull();
    expect(failed).toContain('effectsPerKey');
    const counts = history.flatMap((event) =>
      event.type === 'probe' && event.reading.ok && 'count' in event.reading
        ? [event.reading.count]
        : [],
    );
    expect(counts.every((count) => count === 2)).toBe(true);
  });

  it('a start that never gets ready is a scenario error naming the command; what was recorded is kept', async () => {
    const demo = await startDemoProcessOnTestDatabase({});
    started.push(demo);
    const path = join(folder, 'never-ready.yaml');
    const text = demo
      .scenario('never ready', '  - { kind: cold-start-replay, count: 2 }')
      .replace(/ {2}start: .*\n/, '  start: "echo starting && true"\n')
      .replace(
        / {2}ready: .*\n/,
        '  ready: { command: "exit 1", timeoutMs: 300, intervalMs: 50 }\n',
      );
    await writeFile(path, text);
    const outcome = await runSuite({
      paths: [path],
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, 'reports-never-ready'),
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    const scenario = outcome.result.scenarios[0];
    expect(scenario?.error?.code).toBe('IDEMPROOF_ERR_TARGET_UNREACHABLE');
    expect(scenario?.error?.message).toContain("scenario 'never ready'");
    expect(scenario?.error?.message).toContain('echo starting && true');
    expect(scenario?.error?.message).toContain('starting');
    const actions = processEvents(outcome.history).map((event) => event.action);
    expect(actions).toEqual(['kill', 'start', 'not-ready']);
    // The two keys sent before the restart are in the history.
    expect(outcome.history.filter((event) => event.type === 'invoke')).toHaveLength(2);
  });
});
