import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createReporters,
  multiplexReporters,
  REPORTER_NAMES,
} from '../../../src/report/registry.js';
import type { Reporter } from '../../../src/report/types.js';
import { testContext, type TestContext } from './context.js';
import { buildFixture } from './fixture.js';

describe('reporter registry', () => {
  let test: TestContext;
  beforeEach(() => {
    test = testContext();
  });
  afterEach(() => test.remove());

  it('makes reporters by name, once each', () => {
    expect(REPORTER_NAMES).toEqual(['terminal', 'html', 'junit', 'json', 'github']);
    const reporters = createReporters(['json', 'html', 'json'], test.context);
    expect(reporters.map((reporter) => reporter.name)).toEqual(['json', 'html']);
  });

  it('names the known reporters when a name is unknown', () => {
    expect(() => createReporters(['html', 'xml'], test.context)).toThrow(
      "unknown reporter 'xml'; expected one of: terminal, html, junit, json",
    );
  });

  it('writes every file of a run folder through the multiplexer', async () => {
    const { result, history } = buildFixture();
    const errors: string[] = [];
    const all = multiplexReporters(
      // github writes outside the run folder (the step summary); test/unit/report/github.test.ts
      createReporters(
        REPORTER_NAMES.filter((name) => name !== 'github'),
        test.context,
      ),
      (name) => void errors.push(name),
    );
    const files = await all.onEnd(result, history);
    expect(errors).toEqual([]);
    expect(files.map((file) => file.slice(test.context.reportDir.length + 1))).toEqual([
      'index.html',
      'junit.xml',
      'results.json',
    ]);
    for (const file of files) expect(existsSync(file)).toBe(true);
    expect(test.out[0]).toContain('FAIL: 2 defects (2 violations)');
  });
});

describe('multiplexReporters', () => {
  let test: TestContext;
  beforeEach(() => {
    test = testContext();
  });
  afterEach(() => test.remove());

  function recording(name: string, calls: string[]): Reporter {
    return {
      name,
      onStart: () => void calls.push(`${name}.start`),
      onProgress: (progress) => void calls.push(`${name}.progress ${progress.done}`),
      onEnd: () => {
        calls.push(`${name}.end`);
        return Promise.resolve([`${name}.file`]);
      },
    };
  }

  it('isolates a reporter that throws, tells onError its name, and still runs the others', async () => {
    const { result, history } = buildFixture();
    const calls: string[] = [];
    const errors: { name: string; message: string; hook: string | undefined }[] = [];
    const broken: Reporter = {
      name: 'broken',
      onStart: () => {
        throw new Error('start failed');
      },
      onProgress: () => {
        throw new Error('progress failed');
      },
      onEnd: () => {
        throw new Error('end failed');
      },
    };
    const rejecting: Reporter = {
      name: 'rejecting',
      onEnd: () => Promise.reject(new Error('disk full')),
    };
    const all = multiplexReporters(
      [recording('first', calls), broken, rejecting, recording('last', calls)],
      (name, error, hook) =>
        errors.push({
          name,
          message: error instanceof Error ? error.message : String(error),
          hook,
        }),
    );
    all.onStart?.({ runId: 'r', scenarios: 1, total: 2 });
    all.onProgress?.({ scenario: 's', done: 1, total: 2 });
    all.onProgress?.({ scenario: 's', done: 2, total: 2 });
    const files = await all.onEnd(result, history);
    expect(files).toEqual(['first.file', 'last.file']);
    expect(calls).toEqual([
      'first.start',
      'last.start',
      'first.progress 1',
      'last.progress 1',
      'first.progress 2',
      'last.progress 2',
      'first.end',
      'last.end',
    ]);
    expect(errors).toEqual([
      { name: 'broken', message: 'start failed', hook: 'onStart' },
      // Reported once, then no more progress for that reporter.
      { name: 'broken', message: 'progress failed', hook: 'onProgress' },
      { name: 'broken', message: 'end failed', hook: 'onEnd' },
      { name: 'rejecting', message: 'disk full', hook: 'onEnd' },
    ]);
  });

  it('does not throw when onError itself throws', async () => {
    const { result, history } = buildFixture();
    const broken: Reporter = { name: 'broken', onEnd: () => Promise.reject(new Error('x')) };
    const all = multiplexReporters([broken], () => {
      throw new Error('handler broke');
    });
    await expect(all.onEnd(result, history)).resolves.toEqual([]);
  });
});
