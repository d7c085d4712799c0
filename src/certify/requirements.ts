import type { Anomaly, CheckResult } from '../check/types.js';
import type { Profile, ProfileName } from '../scenario/profile.js';

/**
 * What each profile promises, as numbered requirements a certificate can list one by one,
 * each decided by one checker of the run (and, where a checker covers two promises, by the
 * kinds of anomaly that break each).
 *
 * Must not: decide a requirement the run did not exercise: nothing checked is `unknown`.
 */

/** Where each profile's rules come from, printed on the certificate. */
export const PROFILE_SOURCES: Readonly<Record<ProfileName, { version: string; source: string }>> = {
  default: {
    version: 'idemproof default profile 1',
    source:
      '409 for a reused key with another payload and for a request still in flight; 400 for a missing key',
  },
  ietf: {
    version: 'draft-ietf-httpapi-idempotency-key-header-07',
    source:
      'IETF HTTPAPI draft: 422 for a reused key with another payload, 409 in flight, 400 for a missing key',
  },
  stripe: {
    version: 'Stripe API v1 idempotent requests',
    source:
      'Stripe: 400 idempotency_error for another payload, 409 in flight, Idempotent-Replayed: true on replays, keys optional, kept 24 h',
  },
};

export interface Requirement {
  readonly id: string;
  /** The promise, in the profile's own numbers. */
  readonly text: string;
  readonly checker: string;
  /** Only these anomaly kinds break it; all of the checker's otherwise. */
  readonly kinds?: readonly string[];
  /** Anomaly kinds of the checker that belong to another requirement. */
  readonly exceptKinds?: readonly string[];
  /** What the run needs to exercise it, said when it could not. */
  readonly needs?: string;
}

const statuses = (list: readonly number[]): string => list.join(' or ');

export function requirementsOf(profile: Profile): Requirement[] {
  const marker = profile.replayHeader;
  return [
    {
      id: 'R1',
      text: 'A request retried with the same key has one effect, however it is retried: one after another, concurrently, after a lost response or a lost request, or after a pause.',
      checker: 'effectsPerKey',
    },
    {
      id: 'R2',
      text: `A retry after a completed request gets the first response again: the same status and body${profile.significantHeaders.length > 0 ? ` and the same ${profile.significantHeaders.join(', ')}` : ''}.`,
      checker: 'replayIdenticalResponses',
      exceptKinds: ['replay-marker-missing'],
    },
    ...(marker === null
      ? []
      : [
          {
            id: 'R3',
            text: `Every replay says so: ${marker.name}: ${marker.value}.`,
            checker: 'replayIdenticalResponses',
            kinds: ['replay-marker-missing'],
          },
        ]),
    {
      id: 'R4',
      text: `The same key with a different payload is refused with ${statuses(profile.mismatchStatus)}, and the first request's result stays as it was.`,
      checker: 'conflictOnMismatch',
    },
    {
      id: 'R5',
      text: `A duplicate that arrives while the first is still being processed is refused with ${statuses(profile.inFlightStatus)} or gets the first response; it is never executed a second time.`,
      checker: 'inFlightDuplicates',
    },
    {
      id: 'R6',
      text:
        profile.missingKey.expect === 'refused'
          ? `A request without a key is refused with ${statuses(profile.missingKey.status)}.`
          : 'A request without a key is processed like any other (keys are optional).',
      checker: 'missingKeyRefused',
    },
    {
      id: 'R7',
      text: 'Keys belong to the caller: the same key sent by another tenant is a request of its own, never a replay of someone else’s.',
      checker: 'tenantIsolation',
      needs: 'two tenants under target.tenants',
    },
    {
      id: 'R8',
      text: 'Requests with different keys are different requests: each has its own effect.',
      checker: 'distinctKeysDistinctEffects',
    },
    {
      id: 'R9',
      text: 'A late retry of an earlier change never overwrites a later one: the resource ends in the state of the last change.',
      checker: 'outOfOrderFinalState',
      needs: 'a state probe and an out-of-order pattern in the scenario',
    },
  ];
}

export type RequirementVerdict = 'holds' | 'violated' | 'unknown';

export interface RequirementResult {
  readonly id: string;
  readonly text: string;
  readonly verdict: RequirementVerdict;
  /** False when the run could not exercise it (it needs tenants, a state probe…). */
  readonly exercised: boolean;
  /** Whether the scenario may lack what it needs; the others every API must show. */
  readonly optional: boolean;
  readonly checker: string;
  /** What the run examined, or why it could not decide. */
  readonly evidence: string;
  /** The anomalies that break it (all of them; reports show the first ones). */
  readonly anomalies: readonly Anomaly[];
}

/** Decides each requirement from the run's checks. */
export function evaluateRequirements(
  requirements: readonly Requirement[],
  checks: readonly CheckResult[],
): RequirementResult[] {
  return requirements.map((requirement) => {
    const check = checks.find((candidate) => candidate.checker === requirement.checker);
    const base = {
      id: requirement.id,
      text: requirement.text,
      checker: requirement.checker,
      optional: requirement.needs !== undefined,
      exercised: true,
    };
    if (check === undefined || check.checked === 0) {
      return {
        ...base,
        exercised: false,
        verdict: 'unknown',
        evidence: `not exercised by this run${requirement.needs === undefined ? '' : `: it needs ${requirement.needs}`}`,
        anomalies: [],
      };
    }
    const anomalies = check.anomalies.filter(
      (anomaly) =>
        (requirement.kinds === undefined || requirement.kinds.includes(anomaly.kind)) &&
        !(requirement.exceptKinds ?? []).includes(anomaly.kind),
    );
    const examined = `${requirement.checker} examined ${check.checked} item${check.checked === 1 ? '' : 's'}`;
    if (anomalies.length > 0) {
      return {
        ...base,
        verdict: 'violated',
        evidence: `${examined}; ${anomalies.length} violation${anomalies.length === 1 ? '' : 's'}: ${anomalies[0]?.message ?? ''}`,
        anomalies,
      };
    }
    if (check.valid === 'unknown') {
      return {
        ...base,
        verdict: 'unknown',
        evidence: `${examined}, but could not decide: ${check.notes.join(' ') || 'outcomes unknown'}`,
        anomalies: [],
      };
    }
    return { ...base, verdict: 'holds', evidence: `${examined}; no violation`, anomalies: [] };
  });
}
