import { REDACTED, Redactor } from '../history/redact.js';
import { expandEnv } from '../probe/probes.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';

/**
 * The run's redactor: the header names and JSON fields every scenario lists, and the secret
 * values known before any traffic (sensitive headers written in the scenarios, with their
 * ${ENV} references expanded, and passwords in target URLs), so even a message about the
 * first request cannot show them.
 */
export function redactorFor(
  loaded: readonly LoadedScenario[],
  targetOverride: string | undefined,
): Redactor {
  const redactor = new Redactor({
    headers: loaded.flatMap(({ scenario }) => scenario.redact.headers),
    jsonFields: loaded.flatMap(({ scenario }) => scenario.redact.jsonFields),
  });
  for (const { scenario } of loaded) {
    for (const [name, value] of scenarioHeaders(scenario)) {
      if (!redactor.isSensitiveHeader(name) || /\{\{/.test(value)) continue;
      try {
        redactor.learn(expandEnv(value));
      } catch {
        // A missing environment variable is reported where the header is used.
      }
    }
  }
  for (const url of [targetOverride, ...loaded.map(({ scenario }) => scenario.target.baseUrl)]) {
    const password = passwordOf(url);
    if (password !== undefined) redactor.learn(password);
  }
  return redactor;
}

function scenarioHeaders(scenario: Scenario): [string, string][] {
  const probeHeaders = [scenario.effects, scenario.keylessEffects, scenario.state].flatMap(
    (probe) =>
      probe !== undefined && 'http' in probe ? Object.entries(probe.http.headers ?? {}) : [],
  );
  return [
    ...Object.entries(scenario.target.headers),
    ...Object.values(scenario.target.tenants).flatMap((headers) => Object.entries(headers)),
    ...scenario.patterns.flatMap((pattern) => Object.entries(pattern.headers ?? {})),
    ...probeHeaders,
  ];
}

function passwordOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}

/**
 * A copy of the scenario safe to write into the run folder: sensitive header values hidden,
 * listed JSON fields of the payload redacted, and every known secret value scrubbed.
 */
export function redactedScenario(scenario: Scenario, redactor: Redactor): Scenario {
  const headerSet = (headers: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [
        name,
        redactor.isSensitiveHeader(name) ? REDACTED : value,
      ]),
    );
  const json = <T>(value: T): T =>
    value === undefined ? value : (JSON.parse(redactor.body(JSON.stringify(value))) as T);
  const copy: Scenario = {
    ...scenario,
    target: {
      ...scenario.target,
      headers: headerSet(scenario.target.headers),
      tenants: Object.fromEntries(
        Object.entries(scenario.target.tenants).map(([tenant, headers]) => [
          tenant,
          headerSet(headers),
        ]),
      ),
    },
    payload: {
      ...scenario.payload,
      template: json(scenario.payload.template),
      different: json(scenario.payload.different),
    },
    patterns: scenario.patterns.map((pattern) =>
      pattern.headers === undefined ? pattern : { ...pattern, headers: headerSet(pattern.headers) },
    ),
    effects: probeWith(scenario.effects, headerSet),
    keylessEffects: probeWith(scenario.keylessEffects, headerSet),
    state: probeWith(scenario.state, headerSet),
  };
  return JSON.parse(redactor.scrub(JSON.stringify(copy))) as Scenario;
}

/** An HTTP probe with its headers passed through `headerSet`; other probes unchanged. */
function probeWith<P>(
  probe: P,
  headerSet: (headers: Record<string, string>) => Record<string, string>,
): P {
  if (probe === undefined || probe === null || typeof probe !== 'object' || !('http' in probe))
    return probe;
  const http = (probe as { http: { headers?: Record<string, string> } }).http;
  if (http.headers === undefined) return probe;
  return { ...probe, http: { ...http, headers: headerSet(http.headers) } };
}
