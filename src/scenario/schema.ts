import { z } from 'zod';
import { SCENARIO_LIMITS } from './limits.js';
import { profileFieldsSchema } from './profile-schema.js';
import { hooksSchema } from './schema-flow.js';
import {
  coldStartReplayPatternFields,
  crashPatternFields,
  dependenciesSchema,
  dependencyFaultPatternFields,
  downstreamSchema,
  processSchema,
} from './schema-chaos.js';
import { stepsPatternSchema } from './schema-steps.js';
import { httpVersionSchema, tlsSchema } from './schema-transport.js';
import {
  countedRetries,
  keySchema,
  methodSchema,
  patternRequestFields,
  payloadSchema,
  queryTemplateSchema,
} from './schema-request.js';

/**
 * The scenario model: what YAML files and `defineScenario({...})` modules both become. The
 * JSON Schema shipped for editors is generated from these definitions (`json-schema.ts`).
 *
 * Templates: strings may contain {{key}}, {{tenant}}, {{marker}}, {{resource}}, {{run}},
 * {{n}} and {{sink}}; they are filled in per logical operation (URL-encoded inside URLs).
 */

const statusList = z.array(z.number().int().min(100).max(599)).min(1).describe('HTTP status codes');

const headerSet = z
  .record(z.string().min(1), z.string())
  .describe('HTTP headers: name → value (templates allowed)');

const durationMs = z.number().int().min(0).max(3_600_000);

export const httpProbeSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .describe(
        'URL template, absolute or relative to the target base URL, e.g. /payments?idempotency_key={{key}}',
      ),
    headers: headerSet.optional(),
    count: z
      .string()
      .default('$')
      .describe(
        'JSON path to a number, or to an array whose length is the count ($.count, $.data, $)',
      ),
  })
  .strict();

export const sqlProbeSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .describe('PostgreSQL connection string; ${ENV_VAR} is expanded, e.g. ${DATABASE_URL}'),
    query: z.string().min(1).describe('A query returning one number in its first column'),
    params: z
      .array(z.enum(['key', 'tenant', 'marker', 'resource']))
      .default(['key'])
      .describe('Values bound to $1, $2, …'),
  })
  .strict();

export const sinkProbeSchema = z
  .object({
    countBy: z
      .enum(['key', 'marker'])
      .default('key')
      .describe(
        'The target calls {{sink}}/<key or marker>; calls are counted per last path segment',
      ),
    downstream: downstreamSchema
      .optional()
      .describe(
        'The sink as a flaky downstream: what it answers each call of a key, and the forwarded key it dedupes by',
      ),
  })
  .strict();

export const effectProbeSchema = z
  .union([
    z.object({ http: httpProbeSchema }).strict(),
    z.object({ sql: sqlProbeSchema }).strict(),
    z.object({ sink: sinkProbeSchema }).strict(),
  ])
  .describe('How to count the effects of one key: http, sql or sink');

export const deltaProbeSchema = z
  .object({
    delta: z
      .union([
        z.object({ http: httpProbeSchema }).strict(),
        z.object({ sql: sqlProbeSchema }).strict(),
      ])
      .describe('A counter read before the first attempt of each key and after it'),
  })
  .strict()
  .describe(
    'Counts the effects of a key as after − before on a counter that is global or not per key (needs concurrency: 1)',
  );

export const stateProbeSchema = z
  .object({
    http: z
      .object({
        url: z.string().min(1).describe('URL template of the resource, e.g. /orders/{{resource}}'),
        headers: headerSet.optional(),
        select: z
          .string()
          .default('$')
          .describe('JSON path of the state to compare, e.g. $.status'),
      })
      .strict(),
  })
  .strict();

const lanesSchema = z.array(
  z.enum(['clean', 'lost-response', 'lost-request', 'blackhole', 'slow-request', 'slow-response']),
);

const patternBase = {
  name: z.string().min(1).optional().describe('A label for reports'),
  tenant: z.string().min(1).optional().describe('Run as this tenant (a key of target.tenants)'),
  headers: headerSet.optional().describe('Extra headers for this pattern only'),
  ...patternRequestFields,
  timeoutMs: durationMs
    .optional()
    .describe('Client timeout per attempt (default target.timeoutMs)'),
  settleMs: durationMs
    .optional()
    .describe('Wait before probing effects (default the scenario settleMs)'),
};

export const patternSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('sequential-duplicates'),
      ...patternBase,
      count: z
        .number()
        .int()
        .min(2)
        .max(100)
        .default(3)
        .describe('Requests sent with one key, one after another'),
      lanes: lanesSchema
        .min(1)
        .default(['clean'])
        .describe('Lanes the retries are drawn from (seeded)'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('concurrent-burst'),
      ...patternBase,
      count: z
        .number()
        .int()
        .min(2)
        .max(64)
        .default(10)
        .describe('Identical requests released together'),
      rounds: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(3)
        .describe('Bursts, each with a fresh key'),
      release: z
        .enum(['last-byte', 'plain'])
        .default('last-byte')
        .describe(
          'last-byte: hold back each last byte and release them together; plain: send all at once',
        ),
      releasePauseMs: z
        .union([z.literal('auto'), z.number().min(0).max(1000)], {
          error: "releasePauseMs must be 'auto' or a pause in ms from 0 to 1000",
        })
        .default('auto')
        .describe(
          "last-byte: pause (ms) between sending all but each last byte and releasing them, so the target has read every request's headers; 'auto': 10 ms on new connections, 2 ms on kept-alive ones, plus up to 2 ms a request (less on targets that answer faster)",
        ),
    })
    .strict(),
  z
    .object({
      kind: z.literal('payload-mismatch'),
      ...patternBase,
      concurrent: z
        .number()
        .int()
        .min(0)
        .max(32)
        .default(4)
        .describe('Different-payload requests fired together after the first'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('lost-response'),
      ...patternBase,
      retries: countedRetries(2),
      lane: z.enum(['lost-response', 'blackhole']).default('lost-response'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('lost-request'),
      ...patternBase,
      retries: countedRetries(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal('slow-timeout'),
      ...patternBase,
      lane: z.enum(['clean', 'slow-request', 'slow-response']).default('slow-request'),
      clientTimeoutMs: durationMs.default(300).describe('The original gives up after this long'),
      retryAtMs: z
        .array(durationMs)
        .min(1)
        .default([100, 600])
        .describe('When retries start, after the original'),
      settleMs: durationMs
        .default(1500)
        .describe('Wait before counting effects, so a delayed original has landed'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('delayed-retries'),
      ...patternBase,
      delaysMs: z.array(durationMs).min(1).default([200, 2000]).describe('Pause before each retry'),
      afterRetention: z
        .enum(['skip', 'execute-again'])
        .default('skip')
        .describe(
          'A retry later than the declared retentionMs: skip it (default), or send it expecting the key to execute again',
        ),
    })
    .strict(),
  z
    .object({
      kind: z.literal('out-of-order'),
      ...patternBase,
      operations: z
        .array(z.unknown())
        .min(2)
        .describe('Payloads applied in order to one resource, each with its own key'),
      lateDuplicateOf: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe('Which operation is retried late'),
      firstLane: z.enum(['clean', 'lost-response']).default('lost-response'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('missing-key'),
      ...patternBase,
      count: z.number().int().min(1).max(10).default(2),
    })
    .strict(),
  z
    .object({
      kind: z.literal('cross-tenant'),
      ...patternBase,
      tenants: z
        .array(z.string().min(1))
        .min(2)
        .optional()
        .describe('Tenants sharing one key (default: the first two)'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('distinct-keys'),
      ...patternBase,
      count: z.number().int().min(2).max(100).default(5),
    })
    .strict(),
  z.object({ ...patternBase, ...dependencyFaultPatternFields }).strict(),
  z.object({ ...patternBase, ...crashPatternFields }).strict(),
  z.object({ ...patternBase, ...coldStartReplayPatternFields }).strict(),
  stepsPatternSchema({
    base: patternBase,
    lane: lanesSchema.element.default('clean'),
    statuses: statusList,
  }),
]);

/** Any profile field, replaced whole; the model is profile-schema.ts (profile files too). */
export const profileOverridesSchema = profileFieldsSchema.partial().strict();

export const scenarioSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).describe('Scenario name, shown in reports'),
    description: z.string().optional(),
    target: z
      .object({
        baseUrl: z.string().url().describe('e.g. http://127.0.0.1:3000 (overridden by --target)'),
        method: methodSchema,
        path: z
          .string()
          .startsWith('/')
          .describe('Path template of the endpoint, e.g. /payments or /search?q={{marker}}'),
        query: queryTemplateSchema.default({}),
        headers: headerSet.default({}),
        tenants: z
          .record(z.string().min(1), headerSet)
          .default({})
          .describe(
            'Tenant name → the headers that identify it, e.g. {Authorization: "Bearer alice"}',
          ),
        timeoutMs: durationMs.default(10_000).describe('Client timeout per attempt'),
        allowHosts: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'Hosts outside loopback this scenario may send to (target and probes), e.g. staging.example.com or *.staging.example.com; --allow-host adds more',
          ),
        tls: tlsSchema.optional(),
        http: httpVersionSchema,
      })
      .strict(),
    redact: z
      .object({
        headers: z.array(z.string().min(1)).default([]),
        jsonFields: z.array(z.string().min(1)).default([]),
        queryParams: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'More query parameters whose values are redacted in every URL (besides token, access_token, api_key, key, signature, sig and password)',
          ),
        publicQueryParams: z
          .array(z.string().min(1))
          .default([])
          .describe('Credential query parameters to leave readable, e.g. [key]'),
        publicEnv: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'Environment variables whose ${NAME} values may be shown; every other expanded value is a secret',
          ),
      })
      .strict()
      .default({
        headers: [],
        jsonFields: [],
        queryParams: [],
        publicQueryParams: [],
        publicEnv: [],
      })
      .describe(
        'Header names and JSON field names whose values never appear in any output (besides Authorization, Proxy-Authorization, Cookie, Set-Cookie and X-Api-Key, always redacted); URL passwords, credential query parameters and values from ${ENV} are redacted too',
      ),
    key: keySchema,
    payload: payloadSchema,
    effects: z
      .union([effectProbeSchema, deltaProbeSchema])
      .optional()
      .describe(
        'How to count effects per key; optional only when every pattern is judged without it',
      ),
    keylessEffects: effectProbeSchema
      .optional()
      .describe(
        'Counts effects of requests sent without a key, by {{marker}} (missing-key pattern)',
      ),
    state: stateProbeSchema
      .optional()
      .describe('Reads a resource state (out-of-order pattern); a 404 reads as absent'),
    hooks: hooksSchema.default({
      setup: [],
      reset: [],
      perKey: { setup: [], teardown: [] },
      teardown: [],
    }),
    settleMs: durationMs.default(100).describe('Wait before probing effects'),
    profile: z
      .string()
      .default('default')
      .describe('default, ietf, stripe, or a profile file relative to this scenario'),
    overrides: profileOverridesSchema.default({}),
    dependencies: dependenciesSchema,
    process: processSchema.optional(),
    faults: z
      .object({
        slowMs: durationMs
          .default(1000)
          .describe('Latency of the slow-request and slow-response lanes'),
      })
      .strict()
      .default({ slowMs: 1000 }),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('How many patterns run at once (each has its own keys); 1 keeps timings steadiest'),
    patterns: z
      .array(patternSchema)
      .min(1)
      .max(SCENARIO_LIMITS.patterns)
      .describe(
        `The retry patterns to fire, in order (at most ${SCENARIO_LIMITS.patterns}, planning at most ${SCENARIO_LIMITS.attempts} requests in all)`,
      ),
  })
  .strict();

/** A scenario as written (defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario with every default filled in. */
export type Scenario = z.output<typeof scenarioSchema>;
export type PatternSpec = z.output<typeof patternSchema>;
export type EffectProbeSpec = z.output<typeof effectProbeSchema>;
export type DeltaProbeSpec = z.output<typeof deltaProbeSchema>;

/** The probe that reads the count: the effect probe itself, or the counter inside `delta`. */
export function countingProbe(
  spec: EffectProbeSpec | DeltaProbeSpec | undefined,
): EffectProbeSpec | undefined {
  return spec === undefined || !('delta' in spec) ? spec : spec.delta;
}
export type StateProbeSpec = z.output<typeof stateProbeSchema>;
export type LaneName = z.output<typeof lanesSchema>[number];
