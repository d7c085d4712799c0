import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exitCodeOf } from '../../../src/cli/run-command.js';
import type { CompletionEvent, OkEvent } from '../../../src/history/events.js';
import { runSuite, type RunOutcome } from '../../../src/run/run.js';
import {
  HUGE_BODY_BYTES,
  hugeBodySha256,
  startHostileTarget,
  type HostileMode,
} from '../../support/hostile-target.js';

const SCENARIO = `name: hostile
target: { baseUrl: http://127.0.0.1:1, path: /things, timeoutMs: 1500 }
payload: { template: { amount: 100, note: 'n-{{marker}}' } }
effects: { http: { url: '/things?key={{key}}', count: $.count } }
settleMs: 0
patterns:
  - { kind: sequential-duplicates, count: 3 }
  - { kind: concurrent-burst, count: 3, rounds: 1 }
`;
const BODY_LIMIT = 64 * 1024;

describe('broken and hostile targets: a verdict or exit 3, and bounded memory', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-hostile-'));
    await mkdir(join(folder, 'huge'));
    await writeFile(join(folder, 'hostile.yaml'), SCENARIO);
    // Six 96 MiB bodies, three at once, on a busy 2-core machine can take longer than the
    // 1.5 s the drip tests need: this test is about memory and digests, not timeouts.
    await writeFile(
      join(folder, 'huge', 'hostile.yaml'),
      SCENARIO.replace('timeoutMs: 1500', 'timeoutMs: 60000'),
    );
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function runAgainst(
    target: string,
    scenarioFolder = folder,
  ): Promise<RunOutcome & { seconds: number }> {
    const started = performance.now();
    const outcome = await runSuite({
      paths: [join(scenarioFolder, 'hostile.yaml')],
      target,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, 'reports'),
      reporters: ['json', 'html', 'junit'],
      bodyLimit: BODY_LIMIT,
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    return { ...outcome, seconds: (performance.now() - started) / 1000 };
  }

  async function withTarget<T>(mode: HostileMode, work: (url: string) => Promise<T>): Promise<T> {
    const target = await startHostileTarget(mode);
    try {
      return await work(target.url);
    } finally {
      await target.close();
    }
  }

  const completions = (outcome: RunOutcome): CompletionEvent[] =>
    outcome.history.filter(
      (event): event is CompletionEvent =>
        event.type === 'ok' || event.type === 'fail' || event.type === 'info',
    );

  it('huge bodies: a bounded prefix is kept with the digest of the whole body; memory stays bounded', async () => {
    const before = process.resourceUsage().maxRSS;
    const outcome = await withTarget('huge', (url) => runAgainst(url, join(folder, 'huge')));
    const grownMiB = (process.resourceUsage().maxRSS - before) / 1024;
    const ok = outcome.history.filter((event): event is OkEvent => event.type === 'ok');
    expect(ok.length).toBe(6);
    const sha = hugeBodySha256();
    for (const event of ok) {
      expect(event.response.bodyBytes).toBe(HUGE_BODY_BYTES);
      expect(event.response.body.length).toBe(BODY_LIMIT);
      expect(event.response.bodyTruncated).toBe(true);
      expect(event.response.bodySha256).toBe(sha);
    }
    // Six 96 MiB bodies went through, three at once in the burst; the peak grew by less
    // than one of them (keeping them would take 288 MiB at once).
    expect(grownMiB).toBeLessThan(HUGE_BODY_BYTES / 1024 / 1024);
    expect(exitCodeOf(outcome)).toBeLessThanOrEqual(1);
  });

  it('slow drip answers: each attempt ends at its timeout and the run ends with a verdict', async () => {
    const outcome = await withTarget('drip', runAgainst);
    const ended = completions(outcome);
    expect(ended.length).toBe(6);
    for (const event of ended) {
      expect(event.type).toBe('info');
      if (event.type === 'info') expect(event.error.code).toBe('TIMEOUT');
      expect(event.durationMs).toBeLessThan(3_000);
    }
    expect(outcome.seconds).toBeLessThan(20);
    // Nothing answered: that is exit 3 with what happened, not a PASS.
    expect(exitCodeOf(outcome)).toBe(3);
    expect(outcome.result.scenarios[0]?.error?.message).toContain(
      'answered none of 6 attempts (6 × TIMEOUT)',
    );
  });

  it('malformed HTTP: recorded as outcome unknown with the parser error, verdict given', async () => {
    const outcome = await withTarget('malformed', runAgainst);
    const ended = completions(outcome);
    expect(ended.length).toBe(6);
    for (const event of ended) {
      expect(event.type).toBe('info');
      if (event.type === 'info')
        expect(event.error.code).toMatch(/^HPE_|HTTPParserError|UND_ERR|ECONNRESET/);
    }
    expect(exitCodeOf(outcome)).toBe(3);
    expect(outcome.result.scenarios[0]?.error?.message).toMatch(
      /answered none of 6 attempts \((\d × (HTTPParserError|HPE_\w+)(, )?)+\)/,
    );
  });

  it('a 5xx storm: every answer recorded, and the run ends with a verdict', async () => {
    const outcome = await withTarget('storm', runAgainst);
    const ok = outcome.history.filter((event): event is OkEvent => event.type === 'ok');
    expect(ok.length).toBe(6);
    expect(ok.every((event) => event.response.status === 503)).toBe(true);
    expect(outcome.result.valid).not.toBe(true);
    expect([0, 1]).toContain(exitCodeOf(outcome));
  });

  it('refused connections: exit 3 with a message naming the target', async () => {
    const target = await startHostileTarget('storm');
    const url = target.url;
    await target.close();
    const outcome = await runAgainst(url);
    expect(exitCodeOf(outcome)).toBe(3);
    const error = outcome.result.scenarios[0]?.error;
    expect(error?.code).toBe('IDEMPROOF_ERR_TARGET_UNREACHABLE');
    expect(error?.message).toContain(url);
    expect(error?.message).toContain('ECONNREFUSED');
  });
});
