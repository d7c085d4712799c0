import { z } from 'zod';
import { countedRetries } from './schema-request.js';

/**
 * The scenario model of faults behind and inside the target: its dependencies (a database, a
 * cache, a downstream API) reached through Toxiproxy proxies the scenario declares, the faults
 * patterns inject into them, the outbound sink as a programmable downstream, and the commands
 * that crash and restart the target.
 *
 * Must not: hold behaviour (nemesis/, probe/ and run/ do), or accept an address beyond what
 * the blast-radius rules allow (cross-field rules check listen and upstream hosts).
 */

const durationMs = z.number().int().min(0).max(3_600_000);

/** "host:port", e.g. 127.0.0.1:16379, or ${NAME}. */
const HOST_PORT = /^((\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}|\$\{[A-Za-z_][A-Za-z0-9_]*\})$/;

const hostPort = z.string().regex(HOST_PORT, {
  message: 'expected host:port, e.g. 127.0.0.1:16379, or ${NAME} (an environment variable)',
});

/** The word that names idemproof's own sink as a dependency's upstream. */
export const SINK_UPSTREAM = 'sink';

const upstreamAddress = z
  .string()
  .refine((value) => value === SINK_UPSTREAM || HOST_PORT.test(value), {
    message:
      "expected host:port, e.g. 127.0.0.1:6379, ${NAME} (an environment variable) or sink (idemproof's sink as the downstream)",
  });

export const dependencySchema = z
  .object({
    listen: hostPort.describe(
      'Where the proxy listens: point the service at this address instead of the dependency, e.g. 127.0.0.1:16379; port 0 lets Toxiproxy pick one, which templates name as {{dependency.NAME}}',
    ),
    upstream: upstreamAddress.describe(
      "The dependency itself, e.g. 127.0.0.1:6379, or `sink`: idemproof's own sink, played as the target's downstream (see effects.sink.downstream)",
    ),
    description: z.string().optional().describe('What it is, shown in reports'),
  })
  .strict();

export const dependenciesSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9-]{0,30}$/), dependencySchema)
  .default({})
  .describe(
    "The target's dependencies (database, cache, downstream API), each reached through a Toxiproxy proxy idemproof creates at `listen` for the run: name → {listen, upstream}. Templates name a dependency's listen address (host:port) as {{dependency.NAME}}",
  );

export type Dependency = z.output<typeof dependencySchema>;

/** A fault in a dependency, held in a window around chosen attempts. */
export const dependencyFaultSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('latency'),
        ms: durationMs.default(1500).describe('Added to every reply from the dependency'),
        direction: z
          .enum(['replies', 'requests'])
          .default('replies')
          .describe(
            "replies: the dependency's answers are late; requests: what the service sends (its writes, a consumer's acks) is late",
          ),
      })
      .strict(),
    z
      .object({ kind: z.literal('reset') })
      .strict()
      .describe('Connections reset by peer'),
    z
      .object({ kind: z.literal('timeout') })
      .strict()
      .describe('Data stops flowing: the dependency hangs'),
    z
      .object({ kind: z.literal('down') })
      .strict()
      .describe('The dependency is unreachable: connections are closed and refused'),
    z
      .object({
        kind: z.literal('bandwidth'),
        kbps: z.number().int().min(1).max(1_000_000).default(1),
      })
      .strict(),
    z
      .object({
        kind: z.literal('cut'),
        afterMs: durationMs
          .default(20)
          .describe('Open connections are cut this long after the attempt starts'),
      })
      .strict()
      .describe('A connection cut mid-transaction'),
  ])
  .describe('latency, reset, timeout, down, bandwidth or cut');

export type DependencyFault = z.output<typeof dependencyFaultSchema>;

/** `kind: dependency-fault` without the common pattern fields. */
export const dependencyFaultPatternFields = {
  kind: z.literal('dependency-fault'),
  dependency: z.string().min(1).describe('A name under `dependencies`'),
  fault: dependencyFaultSchema,
  faulted: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(1)
    .describe('How many attempts, from the first, are sent while the fault is held'),
  retries: countedRetries(2),
  retryAfterMs: durationMs.default(200).describe('Pause before each retry, the fault healed'),
  expect: z
    .enum(['fail-closed', 'any'])
    .optional()
    .describe(
      'fail-closed: an attempt answered while the fault was held gets no 2xx and makes no effect (default for down and timeout); any: only the usual checks',
    ),
};

/** `kind: crash`: the target is killed at a point, restarted, and the retries go on. */
export const crashPatternFields = {
  kind: z.literal('crash'),
  at: z
    .enum(['after-effect', 'between-bursts', 'during-in-flight-duplicate'])
    .default('after-effect')
    .describe(
      'after-effect: mid-request, once the effect probe reads it and before the answer; between-bursts: after one burst, before the next; during-in-flight-duplicate: while a duplicate waits on the first',
    ),
  retries: countedRetries(2),
  count: z.number().int().min(2).max(16).default(4).describe('Requests per burst'),
};

/** `kind: cold-start-replay`: a window of keys, a restart, then every key again. */
export const coldStartReplayPatternFields = {
  kind: z.literal('cold-start-replay'),
  count: z.number().int().min(1).max(100).default(5).describe('Keys in the replayed window'),
};

/** How the target is crashed and started again (shell commands, run with `sh -c`). */
export const processSchema = z
  .object({
    kill: z
      .string()
      .min(1)
      .describe('Crashes the target, e.g. kill -9 $(cat api.pid), docker kill api'),
    start: z
      .string()
      .min(1)
      .describe('Starts it again, e.g. node server.js & echo $! > api.pid, docker start api'),
    ready: z
      .object({
        url: z.string().min(1).optional().describe('Ready once a GET answers 2xx'),
        command: z.string().min(1).optional().describe('Ready once the command exits 0'),
        timeoutMs: durationMs.default(30_000),
        intervalMs: z.number().int().min(10).max(10_000).default(100),
      })
      .strict()
      .default({ timeoutMs: 30_000, intervalMs: 100 })
      .describe('How to tell that it is serving again (default: the target answers at all)'),
    cwd: z.string().optional().describe('Folder the commands run in (default: the scenario’s)'),
  })
  .strict()
  .describe('Commands that crash and restart the target, for crash and cold-start-replay patterns');

export type ProcessCommands = z.output<typeof processSchema>;

/** What the programmable downstream answers one call. */
export const downstreamAnswerSchema = z
  .union([
    z.literal('ok').describe('2xx: processed'),
    z.literal('drop').describe('processed, then the connection is dropped before any answer'),
    z.literal('timeout').describe('never answered, not processed'),
    z
      .object({ status: z.number().int().min(100).max(599) })
      .strict()
      .describe('this status; 5xx: not processed'),
    z.object({ slowMs: durationMs }).strict().describe('processed, answered 2xx after this long'),
  ])
  .describe('ok, drop, timeout, {status: 503} or {slowMs: 2000}');

export type DownstreamAnswer = z.output<typeof downstreamAnswerSchema>;

/** The sink as a downstream: its answer per call number of a key, and the key it dedupes by. */
export const downstreamSchema = z
  .object({
    answers: z
      .array(downstreamAnswerSchema)
      .min(1)
      .max(20)
      .default(['ok'])
      .describe('The answer to the 1st, 2nd… call for one key; the last one repeats'),
    forwardedKey: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The request header carrying the key the target forwards (e.g. Idempotency-Key): the downstream dedupes by it, and it must be the same on every call for one key',
      ),
  })
  .strict();

export type Downstream = z.output<typeof downstreamSchema>;
