import { plannedAttempts } from './attempts.js';
import { SCENARIO_LIMITS } from './limits.js';
import { PROFILE_NAMES } from './profile.js';
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
export function crossFieldProblems(scenario: Scenario): Problem[] {
  const problems: Problem[] = [];
  const tenants = Object.keys(scenario.target.tenants);

  if (!(PROFILE_NAMES as string[]).includes(scenario.profile)) {
    problems.push({
      path: ['profile'],
      message: `unknown profile '${scenario.profile}'; expected one of: ${PROFILE_NAMES.join(', ')}`,
    });
  }
  if (!/\{\{\s*(n|marker)\s*\}\}/.test(scenario.key.template)) {
    problems.push({
      path: ['key', 'template'],
      message:
        'the key template must contain {{n}} or {{marker}}, or every operation would share one key',
    });
  }

  scenario.patterns.forEach((pattern, index) => {
    const at = (...rest: (string | number)[]): (string | number)[] => ['patterns', index, ...rest];
    if (pattern.tenant !== undefined && !tenants.includes(pattern.tenant)) {
      problems.push({
        path: at('tenant'),
        message: `unknown tenant '${pattern.tenant}'; target.tenants has: ${tenants.join(', ') || 'none'}`,
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
  return problems;
}
