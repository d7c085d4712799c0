import type pg from 'pg';
import { request, type Dispatcher } from 'undici';
import { withDeadline } from '../client/deadline.js';
import { readBody } from '../client/send.js';
import { describeError } from '../errors.js';
import { scrubUrls } from '../history/redact.js';
import type { HeaderList } from '../history/events.js';
import { fillText, fillUrl, type TemplateVars } from '../plan/template.js';
import type { Downstream } from '../scenario/schema-chaos.js';
import type { DeltaProbeSpec, EffectProbeSpec, StateProbeSpec } from '../scenario/schema.js';
import { countAt, selectJsonPath } from './json-path.js';
import type { Sink } from './sink.js';

/**
 * Effect and state probes read the target's side of the story into the history: how many
 * effects a key (or a marker) has, and what state a resource is in. They go to the target
 * directly, never through a fault lane.
 */
export interface EffectProbe {
  readonly source: 'http' | 'sql' | 'sink';
  /** The count is a counter that is global or not per key: effects are after − before. */
  readonly delta: boolean;
  count(vars: TemplateVars, tenantHeaders: HeaderList): Promise<number>;
}

export interface StateProbe {
  /** The state, or ABSENT when the resource answers 404 (not created yet). */
  read(vars: TemplateVars, tenantHeaders: HeaderList): Promise<unknown>;
}

/** A state probe's answer for a resource that answered 404: recorded as absent, not failed. */
export const ABSENT: unique symbol = Symbol('absent');

export interface ProbeResources {
  readonly targetBase: string;
  readonly sink: Sink | undefined;
  /** One pool per connection string, shared by the run and closed at its end. */
  pool(connectionString: string): pg.Pool;
  /** How HTTP probes connect to an https target (its CA and client certificate, `tls.ts`). */
  readonly dispatcher?: Dispatcher | undefined;
}

const PROBE_TIMEOUT_MS = 10_000;

export function createEffectProbe(
  spec: EffectProbeSpec | DeltaProbeSpec,
  resources: ProbeResources,
): EffectProbe {
  if ('delta' in spec) return { ...createEffectProbe(spec.delta, resources), delta: true };
  if ('http' in spec) {
    const http = spec.http;
    return {
      source: 'http',
      delta: false,
      async count(vars, tenantHeaders) {
        const document = await getJson(
          resolveUrl(fillUrl(http.url, vars), resources.targetBase),
          [...tenantHeaders, ...templatedHeaders(http.headers, vars)],
          false,
          resources.dispatcher,
        );
        return countAt(document, http.count);
      },
    };
  }
  if ('sql' in spec) {
    const sql = spec.sql;
    return {
      source: 'sql',
      delta: false,
      async count(vars) {
        const pool = resources.pool(expandEnv(sql.url));
        const result = await pool.query<Record<string, unknown>>(
          sql.query,
          sql.params.map((name) => vars[name]),
        );
        const first = result.rows[0];
        const value = first === undefined ? 0 : Object.values(first)[0];
        const count = Number(value);
        if (!Number.isFinite(count))
          throw new Error(`the query's first column is not a number: ${String(value)}`);
        return count;
      },
    };
  }
  const sinkSpec = spec.sink;
  return {
    source: 'sink',
    delta: false,
    count(vars) {
      if (resources.sink === undefined) return Promise.reject(new Error('the sink is not running'));
      return Promise.resolve(
        resources.sink.count(sinkSpec.countBy === 'key' ? vars.key : vars.marker),
      );
    },
  };
}

/** The downstream the scenario's sink probe plays, if it declares one. */
export function sinkDownstream(scenario: {
  readonly effects?: EffectProbeSpec | DeltaProbeSpec | undefined;
  readonly keylessEffects?: EffectProbeSpec | DeltaProbeSpec | undefined;
}): Downstream | undefined {
  for (const spec of [scenario.effects, scenario.keylessEffects]) {
    if (spec !== undefined && 'sink' in spec && spec.sink.downstream !== undefined)
      return spec.sink.downstream;
  }
  return undefined;
}

export function createStateProbe(spec: StateProbeSpec, resources: ProbeResources): StateProbe {
  return {
    async read(vars, tenantHeaders) {
      const document = await getJson(
        resolveUrl(fillUrl(spec.http.url, vars), resources.targetBase),
        [...tenantHeaders, ...templatedHeaders(spec.http.headers, vars)],
        true,
        resources.dispatcher,
      );
      if (document === ABSENT) return ABSENT;
      return selectJsonPath(document, spec.http.select) ?? null;
    },
  };
}

function templatedHeaders(
  headers: Record<string, string> | undefined,
  vars: TemplateVars,
): HeaderList {
  return Object.entries(headers ?? {}).map(([name, value]) => [
    name.toLowerCase(),
    fillText(value, vars),
  ]);
}

export function resolveUrl(url: string, base: string): string {
  return /^https?:\/\//i.test(url)
    ? url
    : `${base.replace(/\/+$/, '')}${url.startsWith('/') ? '' : '/'}${url}`;
}

/** `${NAME}` → the environment variable; a missing one is an error naming it. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const value = env[name];
    if (value === undefined) throw new Error(`environment variable ${name} is not set`);
    return value;
  });
}

/** A probe reads at most this much of an answer; a larger one is an error, not a count. */
export const PROBE_BODY_LIMIT = 8 * 1024 * 1024;

/** The JSON a GET answers; with `absentOn404`, a 404 is ABSENT rather than an error. */
async function getJson(
  url: string,
  headers: HeaderList,
  absentOn404 = false,
  dispatcher?: Dispatcher,
): Promise<unknown> {
  // One deadline for headers and body (never `AbortSignal.timeout`: GC can drop it).
  const { response, read } = await withDeadline(PROBE_TIMEOUT_MS, async (signal) => {
    const answer = await request(url, {
      method: 'GET',
      headers: headers.flatMap(([name, value]) => [name, value]),
      signal,
      ...(dispatcher === undefined ? {} : { dispatcher }),
    });
    return { response: answer, read: await readBody(answer.body, PROBE_BODY_LIMIT) };
  });
  if (read.bodyTruncated) {
    throw new Error(
      `GET ${scrubUrls(url)} answered ${read.bodyBytes} bytes; effect and state probes read at most ${PROBE_BODY_LIMIT} bytes`,
    );
  }
  const text = read.body;
  if (absentOn404 && response.statusCode === 404) return ABSENT;
  if (response.statusCode >= 400) {
    throw new Error(`GET ${scrubUrls(url)} answered ${response.statusCode}: ${text.slice(0, 200)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(
      `GET ${scrubUrls(url)} did not answer JSON (${describeError(error)}): ${text.slice(0, 200)}`,
    );
  }
}
