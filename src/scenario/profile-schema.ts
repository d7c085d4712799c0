import { z } from 'zod';
import { PROFILE_NAMES, type ProfileName } from './profile.js';

/**
 * The profile model in zod: every field of `Profile` (profile.ts) with what it means. A
 * profile file (`--profile ./acme.yaml`) is this model with a `name` and an optional `extends`
 * naming the built-in profile it starts from; a scenario's `overrides` are the same fields,
 * each optional (`profileOverridesSchema` in schema.ts).
 *
 * Must not: read files or merge profiles (profile-file.ts does), or hold a built-in profile's
 * values (profile.ts does): defaults here are the neutral ones every built-in shares.
 */

const statusList = z.array(z.number().int().min(100).max(599)).min(1).describe('HTTP status codes');
const headerName = z.string().min(1);
const windowMs = z.union([z.number().int().min(0), z.null()]);

const refusalsSchema = z
  .object({
    retryAfter: z
      .enum(['required', 'optional'])
      .default('optional')
      .describe('Must in-flight refusals and 429s carry a Retry-After header?'),
    problemJson: z
      .boolean()
      .default(false)
      .describe('Must refusals be RFC 9457 problem details (application/problem+json)?'),
    codes: z
      .union([
        z
          .object({
            path: z
              .string()
              .min(1)
              .describe('JSON path of the code member in a refusal body, e.g. $.error.code'),
            inFlight: z.string().min(1).optional(),
            mismatch: z.string().min(1).optional(),
            missingKey: z.string().min(1).optional(),
          })
          .strict(),
        z.null(),
      ])
      .default(null)
      .describe('Stable error codes of each kind of refusal; null: none declared'),
    mismatchBody: z
      .array(z.string().min(1))
      .default([])
      .describe('Texts the body of a mismatch refusal must contain, e.g. idempotency_error'),
  })
  .strict()
  .describe('What refusals (in flight, mismatch, missing key, 429) must carry');

const fingerprintSchema = z
  .object({
    body: z.boolean().default(true).describe('Is the body part of the fingerprint?'),
    query: z.boolean().default(true).describe('Is the query string part of the fingerprint?'),
    path: z.boolean().default(true).describe('Is the URL path part of the fingerprint?'),
    headers: z
      .array(headerName)
      .default([])
      .describe('Request headers that are part of the fingerprint'),
  })
  .strict()
  .describe(
    'The parts of a request that make its fingerprint: a request under a used key that differs elsewhere is the same request, and may be replayed',
  );

/** Every field of a profile but its name, each as the model requires it. */
export const profileFieldsSchema = z.object({
  mismatchStatus: statusList.describe('Status(es) for the same key with a different payload'),
  inFlightStatus: statusList.describe(
    'Status(es) for a duplicate that arrives while the first is still processed',
  ),
  missingKey: z
    .union([
      z.object({ expect: z.literal('refused'), status: statusList }).strict(),
      z.object({ expect: z.literal('processed') }).strict(),
    ])
    .describe(
      'A request without the key: {expect: refused, status: [400]} (keys required) or {expect: processed} (keys optional)',
    ),
  replayHeader: z
    .union([z.object({ name: headerName, value: z.string() }).strict(), z.null()])
    .describe(
      'A header every replay must carry, e.g. {name: Idempotent-Replayed, value: "true"}; null: none',
    ),
  significantHeaders: z.array(headerName).describe('Response headers a replay must repeat exactly'),
  replayIgnore: z
    .object({
      headers: z.array(headerName).default([]),
      jsonPaths: z.array(z.string().min(1)).default([]),
    })
    .strict()
    .describe('What replay comparison ignores: response headers, JSON paths such as $.request_id'),
  firstAttempt5xx: z
    .enum(['replay', 're-execute', 'either'])
    .describe('After a first attempt answered 5xx: must retries replay it, run again, or either'),
  retentionMs: windowMs.describe('How long keys are kept (ms); null: not declared'),
  inProgressTimeoutMs: windowMs.describe(
    'The longest a key may answer "in progress" after its last attempt started (ms); null: not judged',
  ),
  refusals: refusalsSchema,
  fingerprint: fingerprintSchema,
});

export type ProfileFields = z.output<typeof profileFieldsSchema>;

/** Fields a profile file must give when it extends no built-in profile. */
export const FIELDS_WITHOUT_BASE = ['mismatchStatus', 'missingKey', 'replayHeader'] as const;

/** A profile file: a name, an optional built-in base, and the fields that differ from it. */
export const profileFileSchema = profileFieldsSchema
  .partial()
  .extend({
    $schema: z.string().optional(),
    name: z.string().min(1).describe('The profile name shown in reports and certificates'),
    description: z.string().optional().describe('What the profile describes, and its sources'),
    extends: z
      .enum(PROFILE_NAMES as [ProfileName, ...ProfileName[]])
      .optional()
      .describe(
        'The built-in profile this one starts from (default, ietf, stripe); without it, mismatchStatus, missingKey and replayHeader are required',
      ),
  })
  .strict()
  .superRefine((file, context) => {
    if (file.extends !== undefined) return;
    for (const field of FIELDS_WITHOUT_BASE) {
      if (file[field] === undefined) {
        context.addIssue({
          code: 'custom',
          path: [field],
          message: `missing: give ${field}, or start from a built-in profile with extends: ${PROFILE_NAMES.join('|')}`,
        });
      }
    }
  });

export type ProfileFile = z.output<typeof profileFileSchema>;
