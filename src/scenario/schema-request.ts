import { z } from 'zod';

/**
 * The request-shape part of the scenario model: methods, query templates, body encodings, the
 * `different` variant of a mismatch test, per-attempt overrides and key templates. `schema.ts`
 * assembles the scenario from these; the planner and `run/request-build.ts` read them.
 *
 * Must not: fill templates or encode bodies (the planner and executor do), or read files
 * (`{$file: …}` bodies are read by the loader, `body-files.ts`).
 */

export const HTTP_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const BODY_ENCODINGS = ['json', 'form', 'multipart', 'text', 'binary', 'none'] as const;

export const methodSchema = z
  .enum(HTTP_METHODS)
  .default('POST')
  .describe('HTTP method; GET, HEAD and OPTIONS too (a key on a safe method should be ignored)');

export const bodyEncodingSchema = z
  .enum(BODY_ENCODINGS)
  .describe(
    'json; form (application/x-www-form-urlencoded, nested as a[b]=1, a[0][c]=2); multipart (multipart/form-data: fields, and files as {$base64|$file, filename?, contentType?}); text (a string); binary ({$base64: …} or {$file: ./x.bin}); none (no body)',
  );

/** Query parameters: name → value template (URL-encoded when filled). */
export const queryTemplateSchema = z
  .record(z.string().min(1), z.string())
  .describe('Query parameters: name → value template, e.g. {expand: "customer"}');

/** Changes: name → new value template, or null to remove the name. */
const changeSet = z.record(z.string().min(1), z.union([z.string(), z.null()]));

/** Headers, query or body changed for some attempts of a pattern only. */
export const attemptOverrideSchema = z
  .object({
    headers: changeSet
      .optional()
      .describe('Headers added or replaced (case kept as written); null removes one'),
    query: changeSet.optional().describe('Query parameters added or replaced; null removes one'),
    body: z
      .unknown()
      .optional()
      .describe('A body template replacing the payload (encoded as payload.encoding)'),
  })
  .strict();

export type AttemptOverrideSpec = z.output<typeof attemptOverrideSchema>;

/** The per-attempt override and key lines every pattern has (spread into `patternBase`). */
export const patternRequestFields = {
  first: attemptOverrideSchema
    .optional()
    .describe("Changes to each operation's first attempt only"),
  retries: attemptOverrideSchema
    .optional()
    .describe("Changes to every attempt after each operation's first"),
  key: z
    .string()
    .max(65_536)
    .optional()
    .describe(
      'Key template for this pattern only (any value: fixed, empty, very long, non-ASCII), e.g. "" or "{{n}}-é"',
    ),
};

/**
 * `retries` of lost-response and lost-request: how many retries (as before), or the changes
 * to them with `count` beside.
 */
export function countedRetries(fallback: number) {
  return z
    .union([
      z.number().int().min(1).max(20),
      attemptOverrideSchema.extend({ count: z.number().int().min(1).max(20).default(fallback) }),
    ])
    .default(fallback)
    .describe('How many retries, or {count, headers?, query?, body?} to change them too');
}

/** How many retries a `countedRetries` field asks for. */
export function retryCount(retries: number | { readonly count: number }): number {
  return typeof retries === 'number' ? retries : retries.count;
}

/** The retry override of a pattern, whichever form its `retries` has. */
export function retryOverrideOf(retries: unknown): AttemptOverrideSpec | undefined {
  if (retries === null || typeof retries !== 'object') return undefined;
  const { headers, query, body } = retries as AttemptOverrideSpec;
  return {
    ...(headers !== undefined ? { headers } : {}),
    ...(query !== undefined ? { query } : {}),
    ...(body !== undefined ? { body } : {}),
  };
}

/** The structured form of `payload.different`: which parts of the request change. */
const differentRequestSchema = z
  .object({
    fields: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Fields merged over the body (json, form, multipart)'),
    body: z.unknown().optional().describe('A whole other body template'),
    query: changeSet.optional().describe('Query parameters changed (null removes)'),
    path: z.string().startsWith('/').optional().describe('Another path template'),
    headers: changeSet.optional().describe('Headers changed (null removes)'),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'name at least one part to change');

export const differentSchema = z
  .union([
    differentRequestSchema,
    z.record(z.string(), z.unknown()).describe('Fields merged over the body (the older form)'),
  ])
  .describe(
    'A different request under the same key: {fields?, body?, query?, path?, headers?}, or (older form) fields merged over the body; default: one value of the body changed',
  );

export type DifferentSpec = z.output<typeof differentSchema>;

const DIFFERENT_PARTS = new Set(['fields', 'body', 'query', 'path', 'headers']);

/** A `different` as its parts: the older form is `{fields}`. */
export function differentParts(different: DifferentSpec | undefined):
  | {
      readonly fields?: Record<string, unknown>;
      readonly body?: unknown;
      readonly query?: Record<string, string | null>;
      readonly path?: string;
      readonly headers?: Record<string, string | null>;
    }
  | undefined {
  if (different === undefined) return undefined;
  const keys = Object.keys(different);
  const structured = differentRequestSchema.safeParse(different);
  if (keys.length > 0 && keys.every((key) => DIFFERENT_PARTS.has(key)) && structured.success)
    return structured.data;
  return { fields: different };
}

export const payloadSchema = z
  .object({
    encoding: bodyEncodingSchema.default('json'),
    template: z
      .unknown()
      .optional()
      .describe(
        'Body template (none for encoding none); leaves may be {$int: [min, max]} or {$pick: [...]}; binary bodies {$base64: …} or {$file: ./x.bin}',
      ),
    different: differentSchema.optional(),
  })
  .strict();

export const keySchema = z
  .object({
    header: z.string().min(1).default('Idempotency-Key'),
    template: z
      .string()
      .max(65_536)
      .default('idp-{{run}}-{{n}}')
      .describe(
        'Key template; with {{n}} or {{marker}} each operation gets its own key, otherwise every operation shares it (allowed where a pattern has one operation)',
      ),
    quoted: z
      .boolean()
      .default(false)
      .describe('Send the key as an RFC 8941 string ("…"), as the IETF draft writes it'),
  })
  .strict()
  .default({ header: 'Idempotency-Key', template: 'idp-{{run}}-{{n}}', quoted: false });

/** Does a key template give each operation its own key? */
export function keyTemplateVaries(template: string): boolean {
  return /\{\{\s*(n|marker)\s*\}\}/.test(template);
}
