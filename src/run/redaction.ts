import { CREDENTIAL_QUERY_PARAMS, REDACTED, Redactor } from '../history/redact.js';
import { expandEnv } from '../probe/probes.js';
import type { LoadedScenario } from '../scenario/load.js';
import { hookSteps, mapHookSteps } from '../scenario/schema-flow.js';
import { countingProbe, type EffectProbeSpec, type Scenario } from '../scenario/schema.js';

/**
 * The run's redactor: the header names, JSON fields and query parameters every scenario
 * lists, and the secret values known before any traffic, so even a message about the first
 * request cannot show them:
 * - every value expanded from `${NAME}` (headers, SQL connection strings) is a secret, and a
 *   header whose value uses one is shown as [redacted], unless each scenario that uses the
 *   variable lists it under `redact.publicEnv`;
 * - sensitive headers written in the scenarios;
 * - passwords and credential query values in the target, probe and SQL URLs.
 * A credential query parameter stays readable only if every scenario lists it under
 * `redact.publicQueryParams` (one scenario's opt-out does not weaken another's).
 */
export function redactorFor(
  loaded: readonly LoadedScenario[],
  targetOverride: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Redactor {
  const scenarios = loaded.map(({ scenario }) => scenario);
  const envHeaders = scenarios.flatMap((scenario) =>
    scenarioHeaders(scenario)
      .filter(([, value]) => secretReferences(value, scenario).length > 0)
      .map(([name]) => name),
  );
  const queryParams = [
    ...new Set([
      ...CREDENTIAL_QUERY_PARAMS,
      ...scenarios.flatMap((scenario) => scenario.redact.queryParams),
    ]),
  ].filter(
    (name) =>
      scenarios.length === 0 ||
      !scenarios.every((scenario) =>
        scenario.redact.publicQueryParams.some((open) => open.toLowerCase() === name.toLowerCase()),
      ),
  );
  const redactor = new Redactor({
    headers: [...scenarios.flatMap((scenario) => scenario.redact.headers), ...envHeaders],
    jsonFields: scenarios.flatMap((scenario) => scenario.redact.jsonFields),
    queryParams,
  });
  for (const scenario of scenarios) {
    for (const [name, value] of scenarioHeaders(scenario)) {
      for (const reference of secretReferences(value, scenario)) {
        const secret = env[reference];
        if (secret !== undefined) redactor.learn(secret);
      }
      if (!redactor.isSensitiveHeader(name) || /\{\{/.test(value)) continue;
      try {
        redactor.learn(expandEnv(value, env));
      } catch {
        // A missing environment variable is reported where the header is used.
      }
    }
    for (const url of sqlUrls(scenario)) {
      for (const reference of secretReferences(url, scenario)) {
        const secret = env[reference];
        if (secret !== undefined) redactor.learn(secret);
      }
    }
  }
  // Passwords and credential values of every URL known now; scrub() learns the passwords.
  for (const url of [targetOverride, ...scenarios.flatMap((scenario) => scenarioUrls(scenario))]) {
    if (url === undefined) continue;
    let expanded = url;
    try {
      expanded = expandEnv(url, env);
    } catch {
      // Reported where the URL is used.
    }
    redactor.scrub(expanded);
    for (const value of credentialValues(expanded, queryParams)) redactor.learn(value);
  }
  return redactor;
}

/** Names of the environment variables `text` expands that the scenario did not make public. */
function secretReferences(text: string, scenario: Scenario): string[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)]
    .map((match) => match[1] ?? '')
    .filter((name) => !scenario.redact.publicEnv.includes(name));
}

function scenarioHeaders(scenario: Scenario): [string, string][] {
  return [
    ...Object.entries(scenario.target.headers),
    ...Object.values(scenario.target.tenants).flatMap((headers) => Object.entries(headers)),
    ...scenario.patterns.flatMap((pattern) => Object.entries(pattern.headers ?? {})),
    ...scenarioProbes(scenario).flatMap((probe) =>
      'http' in probe ? Object.entries(probe.http.headers ?? {}) : [],
    ),
    ...hookSteps(scenario).flatMap((step) => Object.entries(step.headers ?? {})),
  ];
}

type AnyProbe = EffectProbeSpec | NonNullable<Scenario['state']>;

function scenarioProbes(scenario: Scenario): AnyProbe[] {
  const effects = countingProbe(scenario.effects);
  return [effects, scenario.keylessEffects, scenario.state].filter(
    (probe): probe is AnyProbe => probe !== undefined,
  );
}

function sqlUrls(scenario: Scenario): string[] {
  return scenarioProbes(scenario).flatMap((probe) => ('sql' in probe ? [probe.sql.url] : []));
}

/** Every URL a scenario names: target, its path (which may carry a query), probes. */
function scenarioUrls(scenario: Scenario): string[] {
  return [
    scenario.target.baseUrl,
    scenario.target.path,
    ...scenarioProbes(scenario).flatMap((probe) => ('http' in probe ? [probe.http.url] : [])),
    ...sqlUrls(scenario),
  ];
}

/** Literal values of credential query parameters in `url` (placeholders are not values). */
function credentialValues(url: string, queryParams: readonly string[]): string[] {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1).split('#')[0] : '';
  const wanted = new Set(queryParams.map((name) => name.toLowerCase()));
  return (query ?? '')
    .split('&')
    .map((pair) => pair.split('='))
    .filter(([name, value]) => wanted.has((name ?? '').toLowerCase()) && value !== undefined)
    .map(([, value]) => value ?? '')
    .filter((value) => !/\{\{|\$\{/.test(value))
    .flatMap((value) => {
      try {
        return [value, decodeURIComponent(value)];
      } catch {
        return [value];
      }
    });
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
    effects:
      scenario.effects !== undefined && 'delta' in scenario.effects
        ? { delta: probeWith(scenario.effects.delta, headerSet) }
        : probeWith(scenario.effects, headerSet),
    hooks: mapHookSteps(scenario.hooks, (step) =>
      step.headers === undefined ? step : { ...step, headers: headerSet(step.headers) },
    ),
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
