/**
 * `idemproof/vitest`: idempotency assertions for a service's own vitest suite.
 *
 *   import 'idemproof/vitest'; // registers the matchers with vitest's expect
 *   await expect(scenario).toBeIdempotent({ target: 'http://127.0.0.1:8080' });
 *
 * or, explicitly: `import { idempotencyMatchers } from 'idemproof/vitest';
 * expect.extend(idempotencyMatchers)`. The main entry (`idemproof`) never loads this file, so
 * vitest stays an optional peer dependency.
 */
import { expect, type MatcherState } from 'vitest';
import type { RunResult } from './run/result.js';
import { run, type RunScenariosOptions } from './run/library.js';
import { verdictLines } from './report/terminal-summary.js';
import type { ScenarioSource } from './scenario/load.js';

/** What `toBeIdempotent()` takes: run()'s options (target, toxiproxyUrl, seed, reportDir…). */
export type IdempotencyOptions = RunScenariosOptions;

/**
 * The matchers' default reporters: results.json and the HTML page, so the report named in a
 * failure message is there to open.
 */
export const MATCHER_REPORTERS = ['html', 'json'] as const;

interface MatcherOutcome {
  readonly pass: boolean;
  readonly message: () => string;
}

function scenarioSources(received: unknown): ScenarioSource | readonly ScenarioSource[] {
  const valid = (value: unknown): boolean =>
    typeof value === 'string' || (value !== null && typeof value === 'object');
  if (Array.isArray(received) ? received.every(valid) : valid(received)) {
    return received as ScenarioSource | readonly ScenarioSource[];
  }
  throw new TypeError(
    `toBeIdempotent() expects a scenario (defineScenario({...})), a scenario file or folder, or a list of them; received ${received === null ? 'null' : typeof received}`,
  );
}

/** The terminal report's verdict, violations, undecided checks, replay command and report. */
export function violationText(result: RunResult): string {
  return verdictLines(result, result.reportDir, { color: false }).join('\n');
}

/**
 * Runs the scenario(s) and passes when every check holds (PASS). A violation (FAIL), a check
 * that could not decide (UNKNOWN) or a run cut short fails, with the terminal report's text.
 * With `.not`, it passes only on a violation: an UNKNOWN run proves nothing either way.
 */
async function toBeIdempotent(
  this: MatcherState,
  received: unknown,
  options: IdempotencyOptions = {},
): Promise<MatcherOutcome> {
  const sources = scenarioSources(received);
  const list: readonly unknown[] = Array.isArray(sources) ? sources : [sources];
  const fromFiles = list.every((source) => typeof source === 'string');
  const { result } = await run(sources, {
    ...options,
    reporters: options.reporters ?? MATCHER_REPORTERS,
    // Files replay with `idemproof run` (run()'s default); objects with this call.
    replayCommand:
      options.replayCommand ??
      (fromFiles
        ? undefined
        : (seed: number) => `expect(scenario).toBeIdempotent({ seed: ${seed} })`),
  });
  const text = violationText(result);
  if (this.isNot) {
    return {
      pass: result.valid !== false,
      message: () =>
        result.valid === true
          ? `expected a violation of idempotency, but every check holds:\n${text}`
          : `expected a violation of idempotency, but the run could not decide:\n${text}`,
    };
  }
  return { pass: result.valid === true, message: () => text };
}

/** For `expect.extend(idempotencyMatchers)`; importing this module already does it. */
export const idempotencyMatchers = { toBeIdempotent };

expect.extend(idempotencyMatchers);

declare module 'vitest' {
  // Merged with vitest's own declaration, whose type parameter defaults to `any`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-unused-vars
  interface Assertion<T = any> {
    /**
     * Runs the scenario (a `defineScenario` object, a file or folder, or a list) through
     * idemproof and passes when every check holds; the failure message is the terminal
     * report's violation text with the replay command and the report folder. Await it.
     */
    toBeIdempotent(options?: IdempotencyOptions): Promise<void>;
  }
}
