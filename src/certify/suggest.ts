import { stringify } from 'yaml';
import type { Anomaly, CheckResult } from '../check/types.js';
import type { HistoryEvent } from '../history/events.js';
import type { LoadedScenario } from '../scenario/load.js';
import { PROFILE_NAMES, PROFILES, type Profile, type ProfileName } from '../scenario/profile.js';
import type { ProfileFields } from '../scenario/profile-schema.js';
import { planFor, scenarioResult } from '../run/run-scenario.js';
import {
  answeredStatus,
  evaluateRequirements,
  requirementsOf,
  type RequirementResult,
} from './requirements.js';

/**
 * `certify --suggest-profile`: the profile a target was seen to follow. It starts from the
 * profile the run judged by and changes each choice the target made differently, as the
 * violated requirements of the certificate's profile part show it: the statuses it refused
 * with, optional keys, no replay marker, refusals without what the profile declared. Then it
 * judges the recorded history again under the suggestion, so the certificate says whether the
 * suggestion fits, without a second run. The profile file is written as the built-in profile
 * it differs least from (`extends:`) plus the fields that differ.
 *
 * Must not: change anything for a defect (no profile excuses one), or widen a choice past what
 * the target was seen to answer.
 */

/** The suggestion, as certificate.json records it. */
export interface SuggestedProfile {
  /** Where the profile file was written. */
  readonly file: string;
  /** The built-in profile the file extends. */
  readonly extends: ProfileName;
  /** The fields the file sets, differing from `extends`. */
  readonly fields: Partial<ProfileFields>;
  /** One line per choice changed from the certified profile: the field and what was seen. */
  readonly changes: readonly string[];
  /** Whether every choice of the suggestion holds on the recorded history. */
  readonly fits: boolean;
  /** The suggestion's requirements judged on the recorded history. */
  readonly requirements: readonly RequirementResult[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The 4xx statuses the anomalies say the target answered, sorted. */
function refusalStatuses(anomalies: readonly Anomaly[]): number[] {
  const seen = new Set<number>();
  for (const anomaly of anomalies) {
    const status = answeredStatus(anomaly);
    if (status !== undefined && status >= 400 && status < 500) seen.add(status);
  }
  return [...seen].sort((a, b) => a - b);
}

/** The statuses to allow: the ones seen, plus the profile's when some answers had them. */
function statusesSeen(
  declared: readonly number[],
  requirement: RequirementResult,
  check: CheckResult | undefined,
): number[] {
  const seen = refusalStatuses(requirement.anomalies);
  const someHeld = (check?.checked ?? 0) > (check?.anomalies.length ?? 0);
  return [...new Set([...(someHeld ? declared : []), ...seen])].sort((a, b) => a - b);
}

/**
 * The judged profile with every choice the violated requirements show changed, and one line
 * per change.
 */
export function inferProfile(
  judged: Profile,
  conformance: readonly RequirementResult[],
  checks: readonly CheckResult[],
): { profile: Profile; changes: string[] } {
  const refusals: Mutable<Profile['refusals']> = { ...judged.refusals };
  const profile: Mutable<Profile> = { ...judged, refusals };
  const changes: string[] = [];
  const checkOf = (name: string): CheckResult | undefined =>
    checks.find((check) => check.checker === name);
  for (const requirement of conformance) {
    if (requirement.verdict !== 'violated') continue;
    const kinds = new Set(requirement.anomalies.map((anomaly) => anomaly.kind));
    const check = checkOf(requirement.checker);
    if (requirement.id === 'P1') {
      profile.mismatchStatus = statusesSeen(judged.mismatchStatus, requirement, check);
      changes.push(
        `mismatchStatus: ${JSON.stringify(profile.mismatchStatus)} (a different payload under a used key was refused with ${refusalStatuses(requirement.anomalies).join(', ')})`,
      );
    } else if (requirement.id === 'P2') {
      profile.inFlightStatus = statusesSeen(judged.inFlightStatus, requirement, check);
      changes.push(
        `inFlightStatus: ${JSON.stringify(profile.inFlightStatus)} (duplicates in flight were refused with ${refusalStatuses(requirement.anomalies).join(', ')})`,
      );
    } else if (requirement.id === 'P3') {
      if (kinds.has('missing-key-accepted')) {
        profile.missingKey = { expect: 'processed' };
        changes.push('missingKey: {expect: processed} (requests without a key were processed)');
      } else {
        const seen = refusalStatuses(requirement.anomalies);
        if (seen.length > 0) {
          profile.missingKey = { expect: 'refused', status: seen };
          changes.push(
            `missingKey: {expect: refused, status: ${JSON.stringify(seen)}} (requests without a key were refused with ${seen.join(', ')})`,
          );
        }
      }
    } else if (requirement.id === 'P4') {
      profile.replayHeader = null;
      changes.push('replayHeader: null (replays carried no marker)');
    } else if (requirement.id === 'P5') {
      const rules = refusals;
      if (kinds.has('refusal-missing-retry-after') || kinds.has('refusal-invalid-retry-after')) {
        rules.retryAfter = 'optional';
        changes.push('refusals.retryAfter: optional (refusals came without a valid Retry-After)');
      }
      if (kinds.has('refusal-not-problem-json')) {
        rules.problemJson = false;
        changes.push('refusals.problemJson: false (refusals were not problem details)');
      }
      if (kinds.has('refusal-wrong-code')) {
        rules.codes = null;
        changes.push('refusals.codes: null (refusals did not carry the declared codes)');
      }
      if (kinds.has('refusal-body-missing-text')) {
        rules.mismatchBody = [];
        changes.push('refusals.mismatchBody: [] (mismatch refusals did not name the texts)');
      }
    }
  }
  return { profile, changes };
}

/** The fields of a profile, without its name and provenance. */
function fieldsOf(profile: Profile): ProfileFields {
  const {
    name: _name,
    source: _source,
    sha256: _sha256,
    overridden: _overridden,
    ...fields
  } = profile;
  return fields as ProfileFields;
}

/** The built-in profile the fields differ least from, and the fields that differ from it. */
export function nearestBuiltIn(profile: Profile): {
  extends: ProfileName;
  fields: Partial<ProfileFields>;
} {
  const fields = fieldsOf(profile);
  let best: { extends: ProfileName; fields: Partial<ProfileFields> } | undefined;
  for (const name of PROFILE_NAMES) {
    const base = fieldsOf(PROFILES[name]);
    const differing = Object.fromEntries(
      Object.entries(fields).filter(
        ([field, value]) =>
          JSON.stringify(value) !== JSON.stringify(base[field as keyof ProfileFields]),
      ),
    ) as Partial<ProfileFields>;
    if (best === undefined || Object.keys(differing).length < Object.keys(best.fields).length)
      best = { extends: name, fields: differing };
  }
  return best ?? { extends: 'default', fields };
}

/** The profile file's text: a commented YAML profile that extends the nearest built-in one. */
export function profileFileText(
  name: string,
  suggestion: { extends: ProfileName; fields: Partial<ProfileFields> },
  header: readonly string[],
): string {
  const body = stringify({
    name,
    description: `The profile ${name.replace(/-suggested$/, '')} was seen to follow (idemproof certify --suggest-profile)`,
    extends: suggestion.extends,
    ...suggestion.fields,
  });
  return [...header.map((line) => `# ${line}`), body].join('\n');
}

/** The suggestion's checks and requirements on the recorded history of the conformance run. */
export function judgeAgain(
  loaded: LoadedScenario,
  profile: Profile,
  run: { seed: number; run: string; repeat: number; target: string },
  history: readonly HistoryEvent[],
): { requirements: RequirementResult[]; checks: readonly CheckResult[] } {
  const plans = planFor(loaded, {
    seed: run.seed,
    run: run.run,
    profileOverride: profile,
    repeat: run.repeat,
  });
  const result = scenarioResult({
    loaded,
    profile,
    plans,
    targetBase: run.target.replace(/\/+$/, ''),
    history: history.filter((event) => event.scenario === loaded.scenario.name),
    started: performance.now(),
    error: null,
  });
  return {
    requirements: evaluateRequirements(requirementsOf(profile), result.checks),
    checks: result.checks,
  };
}
