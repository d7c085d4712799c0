import { plannedAttempts } from './attempts.js';
import type { Problem } from './cross-field.js';
import { SCENARIO_LIMITS } from './limits.js';
import { PROFILE_NAMES, overrideProfile, profileByName, type Profile } from './profile.js';
import type { Scenario } from './schema.js';

/**
 * The rules of flows and effects that span fields: which patterns can be judged without an
 * effect probe, what a delta probe (one counter for every key) allows, retries sent past the
 * retention on purpose, and what per-key hooks add to the requests a scenario plans.
 *
 * Must not: check templates (templates.ts does) or plan anything.
 */

/** Patterns judged by readings other than the per-key effect count. */
const JUDGED_WITHOUT_EFFECTS: Record<string, string> = {
  'out-of-order': 'the state probe judges it',
  'missing-key': 'keylessEffects counts it',
  steps: 'its steps state what they expect',
};

/** Patterns that send several keys before counting the effects of the first. */
const INTERLEAVED = new Set(['distinct-keys', 'cross-tenant', 'out-of-order']);

export function flowProblems(scenario: Scenario, profileFile?: Profile): Problem[] {
  const problems: Problem[] = [];
  const delta = scenario.effects !== undefined && 'delta' in scenario.effects;
  if (delta && scenario.concurrency > 1) {
    problems.push({
      path: ['concurrency'],
      message:
        'a delta effect probe reads one counter for the whole target, which patterns running at once would disturb: set concurrency: 1',
    });
  }
  scenario.patterns.forEach((pattern, index) => {
    const label = `${pattern.kind} (pattern ${index + 1}${pattern.name === undefined ? '' : `, '${pattern.name}'`})`;
    if (scenario.effects === undefined && JUDGED_WITHOUT_EFFECTS[pattern.kind] === undefined) {
      problems.push({
        path: ['patterns', index, 'kind'],
        message: `${label} counts effects per key: add effects (http, sql, sink or delta); only ${Object.entries(
          JUDGED_WITHOUT_EFFECTS,
        )
          .map(([kind, why]) => `${kind} (${why})`)
          .join(', ')} can do without`,
      });
    }
    if (delta && INTERLEAVED.has(pattern.kind)) {
      problems.push({
        path: ['patterns', index, 'kind'],
        message: `${label} sends several keys before counting their effects, which one global counter cannot tell apart: use a per-key effect probe (http, sql or sink)`,
      });
    }
    if (pattern.kind === 'delayed-retries' && pattern.afterRetention === 'execute-again') {
      const retention = declaredRetention(scenario, profileFile);
      if (retention === null) {
        problems.push({
          path: ['patterns', index, 'afterRetention'],
          message:
            'execute-again needs a declared retention: set overrides.retentionMs (e.g. 2000) or use a profile that declares one',
        });
      } else if (!pattern.delaysMs.some((_, at) => sum(pattern.delaysMs, at) >= retention)) {
        problems.push({
          path: ['patterns', index, 'delaysMs'],
          message: `execute-again needs a retry after the retention of ${retention} ms: the delays add up to ${sum(pattern.delaysMs, pattern.delaysMs.length - 1)} ms`,
        });
      }
    }
  });
  const perKey = scenario.hooks.perKey.setup.length + scenario.hooks.perKey.teardown.length;
  if (perKey > 0) {
    const attempts = scenario.patterns.reduce(
      (total, pattern) => total + plannedAttempts(pattern, scenario),
      0,
    );
    // At most one operation per attempt, each with its per-key hooks.
    if (attempts * (1 + perKey) > SCENARIO_LIMITS.attempts) {
      problems.push({
        path: ['hooks', 'perKey'],
        message: `the patterns plan ${attempts} requests and per-key hooks up to ${attempts * perKey} more; a scenario may plan at most ${SCENARIO_LIMITS.attempts}: lower the counts or split the scenario`,
      });
    }
  }
  return problems;
}

function sum(delays: readonly number[], upTo: number): number {
  return delays.slice(0, upTo + 1).reduce((total, delay) => total + delay, 0);
}

/**
 * The retention the scenario's profile (a built-in one, or the profile file it names) with its
 * overrides declares; null if none.
 */
function declaredRetention(scenario: Scenario, profileFile: Profile | undefined): number | null {
  if (profileFile === undefined && !(PROFILE_NAMES as string[]).includes(scenario.profile))
    return null;
  const base = profileFile ?? profileByName(scenario.profile);
  return overrideProfile(base, scenario.overrides).retentionMs;
}
