import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../../src/history/recorder.js';
import type { ProcessEvent } from '../../../src/history/events.js';
import {
  OUTPUT_LIMIT,
  createProcessControl,
  httpReadiness,
  runCommand,
  waitReady,
} from '../../../src/nemesis/process.js';

/** A fake clock that moves only when the code under test sleeps. */
function fakeTime() {
  let now = 0;
  return {
    now: () => now,
    sleep: (ms: number) => {
      now += ms;
      return Promise.resolve();
    },
  };
}

describe('waitReady', () => {
  it('asks until the check says ready', async () => {
    let asked = 0;
    const outcome = await waitReady(() => Promise.resolve((asked += 1) >= 3), {
      timeoutMs: 1000,
      intervalMs: 100,
      ...fakeTime(),
    });
    expect(outcome).toEqual({ ready: true, tries: 3, ms: 200 });
  });

  it('gives up at the timeout; a check that throws counts as not ready', async () => {
    let asked = 0;
    const outcome = await waitReady(
      () => {
        asked += 1;
        return Promise.reject(new Error('refused'));
      },
      { timeoutMs: 250, intervalMs: 100, ...fakeTime() },
    );
    expect(outcome.ready).toBe(false);
    expect(outcome.ms).toBe(250);
    expect(asked).toBe(4);
  });

  it('is bounded in tries even when the clock does not move', async () => {
    let asked = 0;
    const outcome = await waitReady(() => Promise.resolve(((asked += 1), false)), {
      timeoutMs: 500,
      intervalMs: 100,
      now: () => 0,
      sleep: () => Promise.resolve(),
    });
    expect(outcome.ready).toBe(false);
    expect(asked).toBe(7);
  });
});

describe('runCommand', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idemproof-process-unit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs with sh -c in the folder and keeps the exit code and output', async () => {
    const result = await runCommand('pwd; echo oops >&2; exit 3', { cwd: dir, timeoutMs: 5000 });
    expect(result.exitCode).toBe(3);
    expect(result.timedOut).toBe(false);
    expect(result.output).toContain(dir);
    expect(result.output).toContain('oops');
  });

  it('keeps only the tail of a long output', async () => {
    const result = await runCommand('seq 1 5000', { cwd: dir, timeoutMs: 5000 });
    expect(result.output.length).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(result.output.endsWith('5000')).toBe(true);
  });

  it('is over when sh exits, even if it left a process running in the background', async () => {
    const result = await runCommand('sleep 30 & echo $! > bg.pid', { cwd: dir, timeoutMs: 5000 });
    expect(result.exitCode).toBe(0);
    await runCommand('kill -9 $(cat bg.pid)', { cwd: dir, timeoutMs: 5000 });
  });

  it('stops a command at its timeout', async () => {
    const result = await runCommand('sleep 30', { cwd: dir, timeoutMs: 100 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
  });
});

describe('process control', () => {
  let server: Server;
  let base: string;
  let status = 503;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.statusCode = status;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('a readiness URL must answer 2xx; the default check takes any answer', async () => {
    status = 503;
    expect(await httpReadiness(`${base}/health`, true)()).toBe(false);
    expect(await httpReadiness(base, false)()).toBe(true);
    status = 204;
    expect(await httpReadiness(`${base}/health`, true)()).toBe(true);
  });

  it('records kill, start and ready with one-line details', async () => {
    status = 200;
    const recorder = new HistoryRecorder();
    const control = createProcessControl({
      commands: {
        kill: 'true',
        start: 'echo started',
        ready: { url: '/health', timeoutMs: 1000, intervalMs: 10 },
      },
      cwd: tmpdir(),
      targetBase: base,
      recorder,
      scenario: 's',
    });
    await control.kill('crash#1', 'at once');
    await control.start('crash#1');
    const events = recorder.events as ProcessEvent[];
    expect(events.map((event) => event.action)).toEqual(['kill', 'start', 'ready']);
    expect(events[0]?.detail).toMatch(/^true: exit 0 in \d+ ms \(at once\)$/);
    expect(events[2]?.detail).toMatch(new RegExp(`^GET ${base}/health answers 2xx after`));
  });

  it('a start that never gets ready throws, naming the scenario, the command and its output', async () => {
    status = 500;
    const recorder = new HistoryRecorder();
    const control = createProcessControl({
      commands: {
        kill: 'true',
        start: 'echo booting',
        ready: { url: `${base}/health`, timeoutMs: 60, intervalMs: 20 },
      },
      cwd: tmpdir(),
      targetBase: base,
      recorder,
      scenario: 'payments',
    });
    const failure = control.start('crash#1');
    await expect(failure).rejects.toThrow(/scenario 'payments'.*`echo booting`/);
    await expect(failure).rejects.toMatchObject({ code: 'IDEMPROOF_ERR_TARGET_UNREACHABLE' });
    await expect(failure).rejects.toThrow(/booting/);
    expect((recorder.events as ProcessEvent[]).map((event) => event.action)).toEqual([
      'start',
      'not-ready',
    ]);
  });
});
