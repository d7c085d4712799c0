import { z } from 'zod';
import { HTTP_METHODS, bodyEncodingSchema } from './schema-request.js';

/**
 * The `steps` pattern: a script of requests, each a change to the scenario's request (method,
 * path, query, headers, body, which key), sent in order or overlapping an earlier one
 * (`concurrentWith`, `delayMs`), each with what it must get back (status, response headers,
 * body, effect count). It expresses what no built-in pattern does: conformance vectors such
 * as "a key on GET is ignored", "after expiry the key executes again", "a 256-byte key is
 * refused".
 *
 * Only the model and the rules inside one pattern (step ids, references to earlier steps,
 * regular expressions): the planner (`plan/patterns/steps.ts`) turns it into sends and probes
 * and resolves profile statuses; the `stepExpectations` checker judges it.
 */

const STEP_ID = /^[A-Za-z][A-Za-z0-9_-]*$/;

const stepId = z
  .string()
  .regex(STEP_ID, 'a step id starts with a letter and holds letters, digits, _ and -');

/** Statuses named after the profile's fields, resolved when the plan is built. */
export const PROFILE_STATUSES = ['mismatch', 'in-flight', 'missing-key'] as const;
export type ProfileStatus = (typeof PROFILE_STATUSES)[number];

const headerRule = z.union([
  z.string().describe('The exact value'),
  z.object({ present: z.literal(true) }).strict(),
  z.object({ absent: z.literal(true) }).strict(),
  z.object({ equals: z.string() }).strict(),
  z
    .object({ matches: z.string().min(1).describe('A regular expression (JavaScript syntax)') })
    .strict(),
]);

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

function expectSchema(statuses: z.ZodArray<z.ZodNumber>) {
  return z
    .object({
      status: z
        .union([
          z.number().int().min(100).max(599),
          statuses,
          z.enum(PROFILE_STATUSES),
          z.literal('2xx'),
        ])
        .optional()
        .describe(
          "A status, a list, '2xx', or the profile's status for mismatch, in-flight or missing-key",
        ),
      headers: z
        .record(z.string().min(1), headerRule)
        .optional()
        .describe(
          'Response headers by name (any case): a value, {present: true}, {absent: true}, {equals: v} or {matches: regex}',
        ),
      body: z
        .object({
          sameAs: stepId.optional().describe('The same bytes as an earlier step got'),
          equals: z.string().optional().describe('Exactly this text'),
          contains: z.array(z.string().min(1)).min(1).optional().describe('Each of these texts'),
          json: z
            .record(z.string().min(1), jsonScalar)
            .optional()
            .describe('JSON path → value, e.g. {$.count: 1}'),
          bytes: z.number().int().min(0).optional().describe('The body is this many bytes long'),
        })
        .strict()
        .optional(),
      effects: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('What the effect probe counts once this step (and its concurrent group) ended'),
    })
    .strict();
}

function stepSchema<Lane extends z.ZodType>(lane: Lane, statuses: z.ZodArray<z.ZodNumber>) {
  return z
    .object({
      id: stepId.describe('Names the step in reports and in sameAs / concurrentWith'),
      method: z
        .enum(HTTP_METHODS)
        .optional()
        .describe('Replaces target.method, e.g. GET, HEAD, OPTIONS'),
      path: z
        .string()
        .startsWith('/')
        .optional()
        .describe('Replaces target.path (template; may carry a query string)'),
      query: z
        .record(z.string().min(1), z.union([z.string(), z.null()]))
        .optional()
        .describe('Query parameters added or replaced; null removes one'),
      headers: z
        .record(z.string().min(1), z.union([z.string(), z.null()]))
        .optional()
        .describe('Headers added or replaced, with the case written; null removes one'),
      body: z.unknown().optional().describe("A body template replacing the scenario's payload"),
      encoding: bodyEncodingSchema
        .optional()
        .describe("How the body is encoded (default: the scenario's); none sends no body"),
      key: z
        .union([
          z.enum(['same', 'new', 'none']),
          z.object({ literal: z.string().describe('Sent as written: empty, long, odd') }).strict(),
        ])
        .default('same')
        .describe(
          'same: the current key; new: a fresh key from now on; none: no key header; {literal: …}: this value',
        ),
      lane: lane.describe('The fault lane this request goes through (default clean)'),
      tenant: z.string().min(1).optional().describe('Send as this tenant'),
      timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
      delayMs: z
        .number()
        .int()
        .min(0)
        .max(3_600_000)
        .default(0)
        .describe('Pause before this step is sent'),
      concurrentWith: z
        .array(stepId)
        .min(1)
        .optional()
        .describe('Earlier steps left in flight while this one is sent; the group is then awaited'),
      expect: expectSchema(statuses).optional(),
    })
    .strict();
}

type StepLike = {
  readonly id: string;
  readonly concurrentWith?: readonly string[] | undefined;
  readonly expect?:
    | {
        readonly headers?: Readonly<Record<string, unknown>> | undefined;
        readonly body?: { readonly sameAs?: string | undefined } | undefined;
      }
    | undefined;
};

/** The rules between steps, each reported at the field it is about. */
export function stepProblems(
  steps: readonly StepLike[],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const seen = new Set<string>();
  const joined = new Set<string>();
  steps.forEach((step, index) => {
    const at = (...rest: (string | number)[]): (string | number)[] => ['steps', index, ...rest];
    if (seen.has(step.id))
      problems.push({ path: at('id'), message: `step id '${step.id}' is used twice` });
    step.concurrentWith?.forEach((other, position) => {
      if (!seen.has(other))
        problems.push({
          path: at('concurrentWith', position),
          message: `'${other}' is not an earlier step`,
        });
      else if (joined.has(other))
        problems.push({
          path: at('concurrentWith', position),
          message: `'${other}' already ended with an earlier concurrent group`,
        });
    });
    const sameAs = step.expect?.body?.sameAs;
    if (sameAs !== undefined && !seen.has(sameAs))
      problems.push({
        path: at('expect', 'body', 'sameAs'),
        message: `'${sameAs}' is not an earlier step`,
      });
    for (const [name, rule] of Object.entries(step.expect?.headers ?? {})) {
      const pattern = (rule as { matches?: unknown }).matches;
      if (typeof pattern !== 'string') continue;
      try {
        new RegExp(pattern);
      } catch (error) {
        problems.push({
          path: at('expect', 'headers', name, 'matches'),
          message: `not a regular expression: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    for (const other of step.concurrentWith ?? []) joined.add(other);
    seen.add(step.id);
  });
  return problems;
}

/**
 * The pattern's schema, built from the shared pieces of `schema.ts` (the pattern fields every
 * pattern has, the lane names, a status list) so both files define each of them once.
 */
export function stepsPatternSchema<Base extends z.ZodRawShape, Lane extends z.ZodType>(parts: {
  readonly base: Base;
  /** The lane names, with the default lane. */
  readonly lane: Lane;
  readonly statuses: z.ZodArray<z.ZodNumber>;
}) {
  return z
    .object({
      kind: z.literal('steps'),
      ...parts.base,
      steps: z
        .array(stepSchema(parts.lane, parts.statuses))
        .min(1)
        .max(50)
        .describe('Requests sent in order, each with what it must get back'),
    })
    .strict()
    .superRefine((pattern, context) => {
      for (const problem of stepProblems((pattern as { steps: readonly StepLike[] }).steps))
        context.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    });
}
