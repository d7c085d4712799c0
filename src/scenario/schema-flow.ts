import { z } from 'zod';
import { bodyEncodingSchema, methodSchema, queryTemplateSchema } from './schema-request.js';

/**
 * The flow around a scenario's patterns: requests sent straight to the target (never through a
 * fault lane) to set it up, reset it and clean up after it, and the values they capture from
 * their answers for later templates (`capture: {customerId: $.id}` → `{{customerId}}`).
 *
 * - `setup`: once, before the first pattern; captures are scenario-wide.
 * - `reset`: before each pattern (e.g. `POST /reset`).
 * - `perKey.setup`: before the first attempt of each key; captures belong to that key.
 * - `perKey.teardown`: after the pattern, once per key.
 * - `teardown`: once, after the last pattern (also after a failure part way).
 *
 * Must not: judge the target. A hook that fails is a scenario error, never a finding.
 */

/** Letters, digits and _, starting with a letter: a name usable as {{name}}. */
export const CAPTURE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** At most this many steps in each hook list (each per-key step is sent once per key). */
export const HOOK_STEPS_MAX = 20;

export const hookStepSchema = z
  .object({
    name: z.string().min(1).optional().describe('A label for reports and errors'),
    method: methodSchema,
    path: z
      .string()
      .min(1)
      .describe(
        'Path template relative to the target base URL, or an absolute URL, e.g. /customers',
      ),
    query: queryTemplateSchema.optional(),
    headers: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe('Headers (templates and ${ENV} allowed)'),
    body: z.unknown().optional().describe('Body template (strings may hold {{variables}})'),
    encoding: bodyEncodingSchema.default('json'),
    expect: z
      .array(z.number().int().min(100).max(599))
      .min(1)
      .optional()
      .describe('Statuses that count as success (default: any 2xx)'),
    capture: z
      .record(
        z.string().regex(CAPTURE_NAME, 'a capture name is letters, digits and _ (e.g. customerId)'),
        z.string().min(1),
      )
      .optional()
      .describe('Template variable → JSON path in the answer, e.g. {customerId: $.id}'),
    secret: z
      .boolean()
      .default(false)
      .describe('Captured values are secrets: redacted from every output'),
  })
  .strict();

const hookList = z.array(hookStepSchema).max(HOOK_STEPS_MAX);

export const hooksSchema = z
  .object({
    setup: hookList
      .default([])
      .describe('Once before the first pattern; captures are scenario-wide'),
    reset: hookList
      .default([])
      .describe('Before each pattern, e.g. [{method: POST, path: /reset}]'),
    perKey: z
      .object({
        setup: hookList
          .default([])
          .describe("Before each key's first attempt; captures belong to that key"),
        teardown: hookList.default([]).describe('After the pattern, once for each of its keys'),
      })
      .strict()
      .default({ setup: [], teardown: [] }),
    teardown: hookList.default([]).describe('Once after the last pattern'),
  })
  .strict()
  .describe('Requests sent straight to the target around the patterns (setup, reset, teardown)');

export type HookStep = z.output<typeof hookStepSchema>;
export type Hooks = z.output<typeof hooksSchema>;
/** Where a hook runs: the phases of `hooks`, per-key ones prefixed with `key-`. */
export type HookPhase = 'setup' | 'reset' | 'key-setup' | 'key-teardown' | 'teardown';

/** Every hook step of a scenario, in the order the phases run. */
export function hookSteps(scenario: { readonly hooks: Hooks }): HookStep[] {
  const { setup, reset, perKey, teardown } = scenario.hooks;
  return [...setup, ...reset, ...perKey.setup, ...perKey.teardown, ...teardown];
}

/** The hooks with every step passed through `map`. */
export function mapHookSteps(hooks: Hooks, map: (step: HookStep) => HookStep): Hooks {
  return {
    setup: hooks.setup.map(map),
    reset: hooks.reset.map(map),
    perKey: { setup: hooks.perKey.setup.map(map), teardown: hooks.perKey.teardown.map(map) },
    teardown: hooks.teardown.map(map),
  };
}

/** The names a list of steps captures, in order. */
export function capturedNames(steps: readonly HookStep[]): string[] {
  return steps.flatMap((step) => Object.keys(step.capture ?? {}));
}
