import { plannedAttempts } from './attempts.js';
import { flowProblems } from './flow-rules.js';
import { SCENARIO_LIMITS } from './limits.js';
import { PROFILE_NAMES, type Profile } from './profile.js';
import { requestProblems } from './request-rules.js';
import type { Scenario } from './schema.js';
import { templateProblems } from './templates.js';

export interface Problem {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Rules that span several fields, which the schema alone cannot state. Each problem names the
 * path it is about, so the loader can point at the line.
 */
export function crossFieldProblems(scenario: Scenario, profileFile?: Profile): Problem[] {
  const problems: Problem[] = [];
  const tenants = Object.keys(scenario.target.tenants);

  // A profile file (`profile: ./acme.yaml`) is loaded by the loader, which passes it here.
  if (profileFile === undefined && !(PROFILE_NAMES as string[]).includes(scenario.profile)) {
    problems.push({
      path: ['profile'],
      message: `unknown profile '${scenario.profile}'; expected one of: ${PROFILE_NAMES.join(', ')}, or a profile file (.yaml, .yml, .json)`,
    });
  }
  problems.push(...requestProblems(scenario));

  scenario.patterns.forEach((pattern, index) => {
    const at = (...rest: (string | number)[]): (string | number)[] => ['patterns', index, ...rest];
    if (pattern.tenant !== undefined && !tenants.includes(pattern.tenant)) {
      problems.push({
        path: at('tenant'),
        message: `unknown tenant '${pattern.tenant}'; target.tenants has: ${tenants.join(', ') || 'none'}`,
      });
    }
    if (pattern.kind === 'steps') {
      pattern.steps.forEach((step, position) => {
        if (step.tenant !== undefined && !tenants.includes(step.tenant))
          problems.push({
            path: at('steps', position, 'tenant'),
            message: `unknown tenant '${step.tenant}'; target.tenants has: ${tenants.join(', ') || 'none'}`,
          });
        if (step.expect?.effects !== undefined && scenario.effects === undefined)
          problems.push({
            path: at('steps', position, 'expect', 'effects'),
            message:
              'an effect count needs an effect probe: add effects (http, sql, sink or delta)',
          });
      });
    }
    if (pattern.kind === 'cross-tenant') {
      const wanted = pattern.tenants ?? tenants.slice(0, 2);
      if (wanted.length < 2) {
        problems.push({
          path: at('kind'),
          message: 'cross-tenant needs two tenants: declare them under target.tenants',
        });
      }
      for (const [position, tenant] of (pattern.tenants ?? []).entries()) {
        if (!tenants.includes(tenant))
          problems.push({ path: at('tenants', position), message: `unknown tenant '${tenant}'` });
      }
    }
    if (pattern.kind === 'dependency-fault' && !(pattern.dependency in scenario.dependencies)) {
      const declared = Object.keys(scenario.dependencies);
      problems.push({
        path: at('dependency'),
        message: `unknown dependency '${pattern.dependency}'; dependencies has: ${declared.join(', ') || 'none (declare it, e.g. dependencies: {store: {listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379}})'}`,
      });
    }
    if (pattern.kind === 'dependency-fault' && scenario.concurrency > 1) {
      problems.push({
        path: ['concurrency'],
        message:
          'a dependency fault reaches every request the target serves: dependency-fault patterns need concurrency: 1, so no other pattern runs inside the fault',
      });
    }
    if ((pattern.kind === 'crash' || pattern.kind === 'cold-start-replay') && !scenario.process) {
      problems.push({
        path: at('kind'),
        message: `${pattern.kind} crashes and restarts the target: add process: {kill, start}, e.g. kill: kill -9 $(cat api.pid), start: node server.js & echo $! > api.pid`,
      });
    }
    if (
      (pattern.kind === 'crash' || pattern.kind === 'cold-start-replay') &&
      scenario.concurrency > 1
    ) {
      problems.push({
        path: ['concurrency'],
        message: `${pattern.kind} restarts the whole target, which patterns running at once would see as faults of their own: set concurrency: 1`,
      });
    }
    if (pattern.kind === 'out-of-order') {
      if (scenario.state === undefined) {
        problems.push({
          path: at('kind'),
          message:
            'out-of-order needs a state probe: add state.http.url, e.g. /orders/{{resource}}',
        });
      }
      if (pattern.lateDuplicateOf >= pattern.operations.length - 1) {
        problems.push({
          path: at('lateDuplicateOf'),
          message: `must name an operation before the last one (0 to ${pattern.operations.length - 2})`,
        });
      }
      if (!/\{\{\s*resource\s*\}\}/.test(scenario.target.path)) {
        problems.push({
          path: ['target', 'path'],
          message:
            'out-of-order acts on one resource: the path must contain {{resource}}, e.g. /orders/{{resource}}',
        });
      }
    }
  });
  const attempts = scenario.patterns.reduce(
    (sum, pattern) => sum + plannedAttempts(pattern, scenario),
    0,
  );
  if (attempts > SCENARIO_LIMITS.attempts) {
    problems.push({
      path: ['patterns'],
      message: `the patterns plan ${attempts} requests; a scenario may plan at most ${SCENARIO_LIMITS.attempts}: split it into several scenarios or lower the counts`,
    });
  }
  problems.push(...templateProblems(scenario));
  problems.push(...flowProblems(scenario, profileFile));
  problems.push(...transportProblems(scenario.target));
  return problems;
}

/**
 * `target.tls` and `target.http` against the scheme of the target URL (`baseUrl`, or the
 * `--target` override a run checks again): TLS settings need https, h2 needs https (ALPN),
 * h2c needs http.
 */
export function transportProblems(
  target: Pick<Scenario['target'], 'baseUrl' | 'tls' | 'http'>,
  url: string = target.baseUrl,
): Problem[] {
  const problems: Problem[] = [];
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const where = url === target.baseUrl ? 'target.baseUrl' : 'the target';
  if (target.tls !== undefined && scheme !== 'https') {
    problems.push({
      path: ['target', 'tls'],
      message: `TLS settings need an https target, but ${where} is ${url}: use https:// or remove target.tls`,
    });
  }
  if (target.http === 'h2' && scheme !== 'https') {
    problems.push({
      path: ['target', 'http'],
      message: `h2 is HTTP/2 over TLS and needs an https target, but ${where} is ${url}; for cleartext HTTP/2 use h2c`,
    });
  }
  if (target.http === 'h2c' && scheme !== 'http') {
    problems.push({
      path: ['target', 'http'],
      message: `h2c is cleartext HTTP/2 and needs an http target, but ${where} is ${url}; over https use h2`,
    });
  }
  return problems;
}
