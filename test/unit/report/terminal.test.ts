import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTerminalReporter,
  PROGRESS_WIDTH,
  progressLine,
} from '../../../src/report/terminal.js';
import { testContext, type TestContext } from './context.js';
import { buildFixture, FAIL, PASS } from './fixture.js';

const ANSI = /\u001b\[/; // eslint-disable-line no-control-regex

describe('terminal reporter', () => {
  let test: TestContext;
  afterEach(() => test.remove());

  describe('not interactive (CI)', () => {
    beforeEach(() => {
      test = testContext(false);
    });

    it('prints nothing during the run, then a plain summary on stdout', async () => {
      const { result, history } = buildFixture();
      const reporter = createTerminalReporter(test.context, { env: {} });
      reporter.onStart?.({ runId: result.runId, scenarios: 4, total: 9 });
      for (let done = 1; done <= 9; done++)
        reporter.onProgress?.({ scenario: PASS, done, total: 9 });
      expect(await reporter.onEnd(result, history)).toEqual([]);
      expect(test.err).toEqual([]);
      expect(test.out).toHaveLength(1);
      const text = test.out[0] ?? '';
      expect(text).not.toMatch(ANSI);
      const lines = text.split('\n');
      expect(lines[0]).toBe(
        'FAIL: 2 defects (2 violations) in 2 checks · 3 checks unknown · 2 scenarios stopped early',
      );
      expect(lines.length).toBeLessThanOrEqual(40);
      expect(text).toMatch(
        /^scenario +effectsPerKey +replayIdentical +conflictOnMismatch +stateOrder$/m,
      );
      expect(text).toMatch(/^payments-pass +✓ +✓ +–$/m);
      expect(text).toContain(`${FAIL}  ✗`);
      expect(text).toContain('Defects: 2 defects (2 violations)');
      expect(text).toMatch(/^✗ 1\. duplicate effect · 1 violation$/m);
      expect(text).toContain('made 2 payments after a lost response');
      expect(text).toContain('  expected: exactly one payment for the key');
      expect(text).toContain("  curl:     curl -X POST 'http://127.0.0.1:8080/payments'");
      expect(text).toContain(
        "seed 42 · replay: npx idemproof run scenarios/payments.yaml --seed 42 --target 'http://127.0.0.1:8080'",
      );
      expect(text).toContain(`report: ${join(test.context.reportDir, 'index.html')}`);
    });

    it('shows control characters from the run instead of sending them to the terminal', async () => {
      const { result, history } = buildFixture();
      await createTerminalReporter(test.context, { env: {} }).onEnd(result, history);
      const text = test.out[0] ?? '';
      expect(text).toContain('esc⟨U+001B⟩[31mred⟨U+001B⟩[0m');
      expect(text).toContain('bell⟨U+0001⟩nul⟨U+0000⟩');
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/); // eslint-disable-line no-control-regex
    });

    it('says PASS when every check holds, groups violations, and counts the defects left out', async () => {
      const { result, history } = buildFixture();
      const pass = { ...result, valid: true as const, scenarios: result.scenarios.slice(0, 1) };
      await createTerminalReporter(test.context, { env: {} }).onEnd(pass, history);
      expect(test.out[0]?.split('\n')[0]).toBe(
        'PASS: every check holds (3 checks in 1 scenario, 1 not applicable)',
      );

      const failing = result.scenarios[1];
      const check = failing?.checks[0];
      const anomaly = check?.anomalies[0];
      if (failing === undefined || check === undefined || anomaly === undefined)
        throw new Error('fixture changed');
      const many = {
        ...result,
        scenarios: [
          {
            ...failing,
            checks: [
              { ...check, anomalies: Array.from({ length: 8 }, () => anomaly) },
              ...failing.checks.slice(1),
            ],
          },
        ],
      };
      await createTerminalReporter(test.context, { env: {} }).onEnd(many, history);
      const text = test.out[1] ?? '';
      expect(text.split('\n')[0]).toContain('FAIL: 2 defects (9 violations)');
      expect(text).toContain('Defects: 2 defects (9 violations)');
      expect(text).toContain('✗ 1. duplicate effect · 8 violations');
      expect(text).toContain('  also 7 more (');
      // The replay violation is its own defect, not hidden behind eight duplicates.
      expect(text).toContain('✗ 2. replay body differs · 1 violation');

      const distinct = {
        ...many,
        repeat: 3,
        scenarios: [
          {
            ...failing,
            checks: [
              {
                ...check,
                anomalies: Array.from({ length: 7 }, (_, i) => ({
                  ...anomaly,
                  kind: `kind-${i}`,
                  key: `k-${i}`,
                })),
              },
              ...failing.checks.slice(1),
            ],
          },
        ],
      };
      await createTerminalReporter(test.context, { env: {} }).onEnd(distinct, history);
      const seven = test.out[2] ?? '';
      expect(seven).toContain('Defects: 8 defects (8 violations)');
      expect(seven).toContain('… 3 more defects in the HTML report');
      // --repeat 3: the checks that held say so.
      expect(seven).toContain('✓ Held in all 3 repetitions: conflictOnMismatch');

      // Violations of two checks on the same key are one defect with two symptoms.
      const replayKey = failing.checks[1]?.anomalies[0]?.key ?? null;
      const replayTenant = failing.checks[1]?.anomalies[0]?.tenant ?? null;
      const linked = {
        ...many,
        scenarios: [
          {
            ...failing,
            checks: [
              {
                ...check,
                anomalies: [
                  { ...anomaly, key: replayKey, tenant: replayTenant },
                  { ...anomaly, key: 'k-other' },
                ],
              },
              ...failing.checks.slice(1),
            ],
          },
        ],
      };
      await createTerminalReporter(test.context, { env: {} }).onEnd(linked, history);
      const one = test.out[3] ?? '';
      expect(one.split('\n')[0]).toContain('FAIL: 1 defect (3 violations)');
      expect(one).toContain('✗ 1. duplicate effect · 3 violations');
      expect(one).toContain(`  first: ${failing.name} · effectsPerKey · key ${replayKey ?? ''}`);
      expect(one).toContain('  2 symptoms:');
      expect(one).toContain(
        `  - duplicate effect · 2 violations · keys ${replayKey ?? ''} and k-other`,
      );
      expect(one).toContain(`  - replay body differs · 1 violation · key ${replayKey ?? ''}`);
    });
  });

  describe('interactive (TTY)', () => {
    beforeEach(() => {
      test = testContext(true);
    });

    it('redraws one progress line with \\r at most every 100 ms, then clears it', async () => {
      let now = 0;
      const { result, history } = buildFixture();
      const reporter = createTerminalReporter(test.context, { env: {}, now: () => now });
      reporter.onStart?.({ runId: result.runId, scenarios: 4, total: 120 });
      for (let done = 1; done <= 120; done++) {
        now += 10;
        reporter.onProgress?.({
          scenario: 'payments-create-with-a-very-long-scenario-name-indeed',
          done,
          total: 120,
        });
      }
      // onStart, then one redraw per 100 ms (10 attempts), and the final one.
      expect(test.err).toHaveLength(1 + 12);
      for (const chunk of test.err) {
        expect(chunk.startsWith('\r')).toBe(true);
        expect(chunk).not.toContain('\n');
        expect(Array.from(chunk.slice(1).trimEnd()).length).toBeLessThanOrEqual(PROGRESS_WIDTH);
      }
      expect(test.err.at(-1)).toContain(
        '▕████████████████████▏ 120/120 attempts · payments-create',
      );
      await reporter.onEnd(result, history);
      expect(test.err.at(-1)).toMatch(/^\r +\r$/);
      expect(test.out[0]).toMatch(ANSI);
    });

    it('leaves colours out when NO_COLOR is set', async () => {
      const { result, history } = buildFixture();
      await createTerminalReporter(test.context, { env: { NO_COLOR: '1' } }).onEnd(result, history);
      expect(test.out[0]).not.toMatch(ANSI);
    });
  });

  it('draws the bar to scale', () => {
    test = testContext();
    expect(progressLine({ scenario: 'orders', done: 42, total: 120 })).toBe(
      '▕███████░░░░░░░░░░░░░▏ 42/120 attempts · orders',
    );
    expect(progressLine({ scenario: '', done: 0, total: 0 })).toBe(
      '▕░░░░░░░░░░░░░░░░░░░░▏ 0/0 attempts',
    );
  });
});
