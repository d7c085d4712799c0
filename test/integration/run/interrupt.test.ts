import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_SUITE } from '../../../src/cli/demo-command.js';
import type { RunResult } from '../../../src/run/result.js';
import { readHistory, readRunFile } from '../../../src/run/run-file.js';
import { BIN, RUN_FOLDER_FILES, runCli } from '../../support/cli.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';
import { prng } from '../../support/prng.js';

/** Each run is stopped within this long of starting; the built-in suite takes about 10 s. */
const MAX_DELAY_MS = 5_000;
const EXIT_TIMEOUT_MS = 30_000;

interface Stopped {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
  readonly runDir: string;
}

/**
 * Starts `idemproof run` on the built-in suite, waits until it names its run folder, lets it
 * run `delayMs`, then sends `signals` (`crash` instead plants an uncaught exception).
 */
function runAndStop(
  target: string,
  reportDir: string,
  delayMs: number,
  signals: readonly NodeJS.Signals[],
  preload: string[] = [],
): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...preload, BIN, 'run', DEMO_SUITE, '--target', target, '--report-dir', reportDir],
      // No reaper: this file proves that `idemproof clean` removes what a killed run left
      // (test/hostile/sigkill.test.ts proves the reaper does it on its own).
      // Its registry goes to the test's own folder, removed with it.
      {
        env: {
          ...process.env,
          TOXIPROXY_URL: inject('toxiproxyUrl'),
          IDEMPROOF_REAPER: 'off',
          IDEMPROOF_STATE_DIR: join(dirname(reportDir), 'state'),
        },
      },
    );
    let stdout = '';
    let stderr = '';
    let runDir = '';
    let signalled = false;
    let again = false;
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the run did not exit within ${EXIT_TIMEOUT_MS} ms:\n${stderr}`));
    }, EXIT_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const named = /idemproof: run \S+ \((\S+)\);/.exec(stderr);
      if (named?.[1] !== undefined && !signalled) {
        signalled = true;
        runDir = named[1];
        setTimeout(() => {
          const [first] = signals;
          if (first !== undefined) child.kill(first);
        }, delayMs);
      }
      // A second signal goes as soon as the run says it is stopping: while it winds down.
      if (signals.length > 1 && !again && /received: stopping/.test(stderr)) {
        again = true;
        child.kill(signals[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, runDir });
    });
  });
}

async function proxiesOf(prefix: string): Promise<string[]> {
  const response = await fetch(`${inject('toxiproxyUrl')}/proxies`);
  const proxies = (await response.json()) as Record<string, unknown>;
  return Object.keys(proxies).filter((name) => name.startsWith(prefix));
}

async function removeProxies(names: readonly string[]): Promise<void> {
  for (const name of names)
    await fetch(`${inject('toxiproxyUrl')}/proxies/${name}`, { method: 'DELETE' });
}

/** What a stopped run must leave: a parsable history, reports, and no proxies of its own. */
async function expectCleanStop(stopped: Stopped): Promise<RunResult> {
  expect(stopped.runDir, stopped.stderr).not.toBe('');
  const run = await readRunFile(stopped.runDir);
  expect(await proxiesOf(`idemproof_${run.run}`)).toEqual([]);
  const history = await readHistory(stopped.runDir, (line) => {
    throw new Error(`the history was cut short: ${line}`);
  });
  expect(history.map((event) => event.index)).toEqual(history.map((_event, index) => index));
  const files = await readdir(stopped.runDir);
  expect(files).toEqual(expect.arrayContaining([...RUN_FOLDER_FILES]));
  const result = JSON.parse(
    await readFile(join(stopped.runDir, 'results.json'), 'utf8'),
  ) as RunResult;
  const junit = await readFile(join(stopped.runDir, 'junit.xml'), 'utf8');
  const html = await readFile(join(stopped.runDir, 'index.html'), 'utf8');
  const attempts = result.scenarios.reduce((sum, scenario) => sum + scenario.attempts.total, 0);
  expect(attempts).toBe(history.filter((event) => event.type === 'invoke').length);
  if (result.stopped !== null && result.stopped !== undefined) {
    expect(result.valid).not.toBe(true);
    expect(junit).toContain('<testsuite name="idemproof run"');
    expect(html).toMatch(/INTERRUPTED|CRASHED/);
  }
  expect(stopped.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  return result;
}

describe('interrupting a run', () => {
  let demo: RunningDemo;
  let folder: string;
  beforeAll(async () => {
    demo = await startDemo({ processingMs: 20, throughStoreProxy: true });
    // The suite's dependency-chaos scenario names the demo's store proxy (as `idemproof demo` sets).
    process.env.IDEMPROOF_DEMO_STORE_LISTEN = demo.store?.listen;
    process.env.IDEMPROOF_DEMO_STORE_UPSTREAM = demo.store?.upstream;
    folder = await mkdtemp(join(tmpdir(), 'idemproof-interrupt-'));
  });
  afterAll(async () => {
    await demo.stop();
    await rm(folder, { recursive: true, force: true });
  });

  const random = prng(20261124);
  const delays = Array.from({ length: 10 }, () => Math.round(random() * MAX_DELAY_MS));

  it.each(delays.map((delay, index) => [index + 1, delay] as const))(
    'run %i, stopped %i ms in: no proxy left, history and reports parse, verdict never PASS',
    async (index, delay) => {
      const signal: NodeJS.Signals = index % 4 === 0 ? 'SIGTERM' : 'SIGINT';
      const stopped = await runAndStop(demo.target.url, join(folder, `run-${index}`), delay, [
        signal,
      ]);
      const result = await expectCleanStop(stopped);
      if (result.stopped === null || result.stopped === undefined) {
        // The suite finished before the signal arrived: a normal run.
        expect([0, 1]).toContain(stopped.code);
      } else {
        expect(stopped.code).toBe(signal === 'SIGINT' ? 130 : 143);
        expect(result.stopped).toMatchObject({ kind: 'interrupted', signal });
        expect(stopped.stdout).toContain('INTERRUPTED');
      }
    },
    EXIT_TIMEOUT_MS + 10_000,
  );

  it(
    'an uncaught exception mid-run: reports marked crashed, lanes removed, exit 4',
    async () => {
      const crash = join(folder, 'crash.mjs');
      await writeFile(
        crash,
        // The crash comes 1 s after the run names its folder, however long loading took.
        [
          'const write = process.stderr.write.bind(process.stderr);',
          'let planted = false;',
          'process.stderr.write = (chunk, ...rest) => {',
          '  if (!planted && /idemproof: run \\S+ \\(/.test(String(chunk))) {',
          '    planted = true;',
          "    setTimeout(() => { throw new Error('planted crash for the test'); }, 1000);",
          '  }',
          '  return write(chunk, ...rest);',
          '};',
          '',
        ].join('\n'),
      );
      const stopped = await runAndStop(
        demo.target.url,
        join(folder, 'crash'),
        60_000,
        [],
        ['--import', crash],
      );
      expect(stopped.code, stopped.stderr).toBe(4);
      expect(stopped.stderr).toContain('planted crash for the test');
      const run = await readRunFile(stopped.runDir);
      expect(await proxiesOf(`idemproof_${run.run}`)).toEqual([]);
      const result = JSON.parse(
        await readFile(join(stopped.runDir, 'results.json'), 'utf8'),
      ) as RunResult;
      expect(result.stopped).toMatchObject({ kind: 'crashed' });
      expect(result.stopped?.detail).toContain('planted crash for the test');
      await readHistory(stopped.runDir, (line) => {
        throw new Error(line);
      });
    },
    EXIT_TIMEOUT_MS + 10_000,
  );

  it(
    'a second Ctrl-C exits at once, says what may be left behind, and keeps the history',
    async () => {
      const stopped = await runAndStop(demo.target.url, join(folder, 'twice'), 1_500, [
        'SIGINT',
        'SIGINT',
      ]);
      expect(stopped.code, `${stopped.signal ?? ''}\n${stopped.stderr}`).toBe(130);
      expect(stopped.stderr).toContain('exiting at once');
      const run = await readRunFile(stopped.runDir);
      const left = await proxiesOf(`idemproof_${run.run}`);
      // Whatever the harness could not remove before the second signal is named in the message.
      if (left.length > 0) expect(stopped.stderr).toContain(`idemproof_${run.run}`);
      else expect(stopped.stderr).toMatch(/May be left behind|Nothing is left behind/);
      await removeProxies(left);
      const history = await readHistory(stopped.runDir, () => undefined);
      expect(history.length).toBeGreaterThan(0);
      expect(history.map((event) => event.index)).toEqual(history.map((_event, index) => index));
    },
    EXIT_TIMEOUT_MS + 10_000,
  );

  it(
    'killed outright (SIGKILL): `idemproof clean` removes its proxies, its history is whole, and `idemproof report` rebuilds every report',
    async () => {
      const killed = await runAndStop(demo.target.url, join(folder, 'killed'), 2_500, ['SIGKILL']);
      expect(killed.code).toBeNull();
      const run = await readRunFile(killed.runDir);
      // Nothing could remove the lanes of a killed process: `idemproof clean` does, and only
      // this run's proxies (a proxy of another run stays).
      const bystander = `idemproof_bystander${process.pid}_s0_clean`;
      await fetch(`${inject('toxiproxyUrl')}/proxies`, {
        method: 'POST',
        body: JSON.stringify({ name: bystander, listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }),
      });
      const left = await proxiesOf(`idemproof_${run.run}_`);
      // Killed mid-scenario, with its fault lanes in place.
      expect(left.length).toBeGreaterThan(0);
      const toxiproxy = ['--toxiproxy', inject('toxiproxyUrl')];
      const dry = await runCli(['clean', killed.runDir, ...toxiproxy, '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(await proxiesOf(`idemproof_${run.run}_`)).toEqual(left);
      const cleaned = await runCli(['clean', killed.runDir, ...toxiproxy]);
      expect(cleaned.code, cleaned.stderr).toBe(0);
      for (const name of left) expect(cleaned.stdout).toContain(name);
      expect(await proxiesOf(`idemproof_${run.run}_`)).toEqual([]);
      expect(await proxiesOf(bystander)).toEqual([bystander]);
      await removeProxies([bystander]);
      expect((await runCli(['clean', ...toxiproxy])).code).toBe(2);
      const before = await readdir(killed.runDir);
      expect(before).not.toContain('results.json');
      // At most the line being written at the kill can be cut short; every other one parses.
      const history = await readHistory(killed.runDir, () => undefined);
      expect(history.length).toBeGreaterThan(5);

      const report = await runCli(['report', killed.runDir]);
      // 6: a run that did not finish, rebuilt from what it recorded (4 is idemproof's own bug).
      expect(report.code, report.stderr).toBe(6);
      expect(report.stdout).toContain('CRASHED');
      const result = JSON.parse(
        await readFile(join(killed.runDir, 'results.json'), 'utf8'),
      ) as RunResult;
      expect(result.runId).toBe(run.runId);
      expect(result.seed).toBe(run.seed);
      expect(result.stopped).toMatchObject({ kind: 'crashed' });
      expect(result.valid).not.toBe(true);
      const attempts = result.scenarios.reduce((sum, scenario) => sum + scenario.attempts.total, 0);
      expect(attempts).toBe(history.filter((event) => event.type === 'invoke').length);
      expect(await readFile(join(killed.runDir, 'junit.xml'), 'utf8')).toContain(
        '<testsuite name="idemproof run"',
      );
      expect(await readFile(join(killed.runDir, 'index.html'), 'utf8')).toContain('CRASHED');
    },
    EXIT_TIMEOUT_MS + 10_000,
  );
});
