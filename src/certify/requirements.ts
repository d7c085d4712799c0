import type { Anomaly, CheckResult } from '../check/types.js';
import type { Profile, ProfileName } from '../scenario/profile.js';

/**
 * What each profile promises, as numbered requirements a certificate can list one by one,
 * each decided by one checker of the run (and, where a checker covers two promises, by the
 * kinds of anomaly that break each, or by the status the target answered). Two parts: the
 * profile's choices (P1…), which another profile may make differently, and what no profile
 * excuses (D1…). A refusal with a 4xx the profile did not name is a choice; a success or a 5xx
 * where a refusal was due is a defect.
 *
 * The retention and the 5xx storage policy are left to `run` with scenarios that exercise
 * them: the conformance suite cannot wait out a retention or make the target fail.
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

/**
 * Which part of a certificate a requirement belongs to. `profile`: a choice the profile makes
 * and another API may make differently (which status refuses a mismatch, whether keys are
 * required, a replay marker, what refusals carry); a target that differs there conforms to
 * another profile. `defect`: what no profile can excuse (more effects than allowed, a
 * different replay, an accepted mismatch, a concurrent duplicate run twice, a stuck key,
 * cross-tenant leakage, a lost update).
 */
export type RequirementPart = 'profile' | 'defect';

export interface Requirement {
  readonly id: string;
  readonly part: RequirementPart;
  /** The promise, in the profile's own numbers. */
  readonly text: string;
  readonly checker: string;
  /** Only these anomaly kinds break it; all of the checker's otherwise. */
  readonly kinds?: readonly string[];
  /** Anomaly kinds of the checker that belong to another requirement. */
  readonly exceptKinds?: readonly string[];
  /** Of those kinds, only the anomalies this accepts break it (e.g. by the status answered). */
  readonly when?: (anomaly: Anomaly) => boolean;
  /** What the run needs to exercise it, said when it could not. */
  readonly needs?: string;
}

const statuses = (list: readonly number[]): string => list.join(' or ');

/**
 * The status an anomaly reports as what the target answered, when its `actual` starts with one
 * ("422", "409: status 201 vs 409"): the checkers of mismatches and in-flight duplicates say
 * so first. Undefined otherwise.
 */
export function answeredStatus(anomaly: Anomaly): number | undefined {
  const match = /^([1-5]\d\d)\b/.exec(anomaly.actual);
  return match === null ? undefined : Number(match[1]);
}

/** A refusal the profile did not name (4xx): a choice. A 2xx or 5xx instead is a defect. */
const refusedOtherwise = (anomaly: Anomaly): boolean => {
  const status = answeredStatus(anomaly);
  return status !== undefined && status >= 400 && status < 500;
};
const notRefusedOtherwise = (anomaly: Anomaly): boolean => !refusedOtherwise(anomaly);

/** Does the profile declare anything refusals must carry? */
function declaresRefusals(profile: Profile): boolean {
  const rules = profile.refusals;
  return (
    rules.retryAfter === 'required' ||
    rules.problemJson ||
    rules.codes !== null ||
    rules.mismatchBody.length > 0
  );
}

const REFUSAL_NAMES: Readonly<Record<string, string>> = {
  inFlight: 'an in-flight',
  mismatch: 'a mismatch',
  missingKey: 'a missing-key',
};

function refusalText(profile: Profile): string {
  const rules = profile.refusals;
  const parts = [
    ...(rules.retryAfter === 'required' ? ['a refusal in flight and a 429 carry Retry-After'] : []),
    ...(rules.problemJson ? ['refusals are RFC 9457 problem details'] : []),
    ...(rules.codes === null
      ? []
      : Object.entries(rules.codes)
          .filter(([field, code]) => field !== 'path' && typeof code === 'string')
          .map(
            ([field, code]) =>
              `${REFUSAL_NAMES[field] ?? `a ${field}`} refusal has ${rules.codes?.path} = ${code}`,
          )),
    ...(rules.mismatchBody.length > 0
      ? [`a mismatch refusal's body names ${rules.mismatchBody.join(', ')}`]
      : []),
  ];
  return `Refusals say what the profile declares: ${parts.join('; ')}.`;
}

/** The profile's choices, as the certificate's "conforms to profile" part lists them. */
function profileRequirements(profile: Profile): Requirement[] {
  const marker = profile.replayHeader;
  return [
    {
      id: 'P1',
      part: 'profile',
      text: `The same key with a different payload is refused with ${statuses(profile.mismatchStatus)}.`,
      checker: 'conflictOnMismatch',
      kinds: ['mismatch-wrong-status'],
      when: refusedOtherwise,
    },
    {
      id: 'P2',
      part: 'profile',
      text: `A duplicate that arrives while the first is still being processed is refused with ${statuses(profile.inFlightStatus)}, or waits and gets the first response.`,
      checker: 'inFlightDuplicates',
      kinds: ['in-flight-wrong-response'],
      when: refusedOtherwise,
    },
    {
      id: 'P3',
      part: 'profile',
      text:
        profile.missingKey.expect === 'refused'
          ? `A request without a key is refused with ${statuses(profile.missingKey.status)}.`
          : 'A request without a key is processed like any other (keys are optional).',
      checker: 'missingKeyRefused',
      exceptKinds: ['missing-key-made-effect'],
    },
    ...(marker === null
      ? []
      : [
          {
            id: 'P4',
            part: 'profile' as const,
            text: `Every replay says so: ${marker.name}: ${marker.value}.`,
            checker: 'replayIdenticalResponses',
            kinds: ['replay-marker-missing'],
          },
        ]),
    ...(declaresRefusals(profile)
      ? [
          {
            id: 'P5',
            part: 'profile' as const,
            text: refusalText(profile),
            checker: 'refusalContents',
          },
        ]
      : []),
  ];
}

/** What no profile excuses, as the certificate's "defects" part lists it. */
function defectRequirements(profile: Profile): Requirement[] {
  return [
    {
      id: 'D1',
      part: 'defect',
      text: 'A request retried with the same key has one effect, however it is retried: one after another, concurrently, after a lost response or a lost request, or after a pause.',
      checker: 'effectsPerKey',
      exceptKinds: ['not-executed-after-retention'],
    },
    {
      id: 'D2',
      part: 'defect',
      text: `A retry after a completed request gets the first response again: the same status and body${profile.significantHeaders.length > 0 ? ` and the same ${profile.significantHeaders.join(', ')}` : ''}.`,
      checker: 'replayIdenticalResponses',
      exceptKinds: ['replay-marker-missing', 'server-error-replayed'],
    },
    {
      id: 'D3',
      part: 'defect',
      text: "The same key with a different payload is never processed as if it were the first: no success, no replay of the first response, and the first request's result stays as it was.",
      checker: 'conflictOnMismatch',
      when: (anomaly) => anomaly.kind !== 'mismatch-wrong-status' || notRefusedOtherwise(anomaly),
    },
    {
      id: 'D4',
      part: 'defect',
      text: 'A duplicate that arrives while the first is still being processed is never executed a second time.',
      checker: 'inFlightDuplicates',
      when: (anomaly) =>
        anomaly.kind !== 'in-flight-wrong-response' || notRefusedOtherwise(anomaly),
    },
    {
      id: 'D5',
      part: 'defect',
      text:
        profile.inProgressTimeoutMs === null
          ? 'No key stays in progress forever.'
          : `No key stays in progress: ${profile.inProgressTimeoutMs} ms after its last attempt started, a key answers again.`,
      checker: 'keyNotStuck',
      needs: 'a key left in progress (an attempt that timed out or lost its answer)',
    },
    {
      id: 'D6',
      part: 'defect',
      text: 'A request refused for having no key has no effect.',
      checker: 'missingKeyRefused',
      kinds: ['missing-key-made-effect'],
    },
    {
      id: 'D7',
      part: 'defect',
      text: 'Keys belong to the caller: the same key sent by another tenant is a request of its own, never a replay of someone else’s.',
      checker: 'tenantIsolation',
      needs: 'two tenants under target.tenants',
    },
    {
      id: 'D8',
      part: 'defect',
      text: 'Requests with different keys are different requests: each has its own effect.',
      checker: 'distinctKeysDistinctEffects',
    },
    {
      id: 'D9',
      part: 'defect',
      text: 'A late retry of an earlier change never overwrites a later one: the resource ends in the state of the last change.',
      checker: 'outOfOrderFinalState',
      needs: 'a state probe and an out-of-order pattern in the scenario',
    },
  ];
}

/** Every requirement of a certificate under a profile: its choices, then what it cannot excuse. */
export function requirementsOf(profile: Profile): Requirement[] {
  return [...profileRequirements(profile), ...defectRequirements(profile)];
}

export type RequirementVerdict = 'holds' | 'violated' | 'unknown';

export interface RequirementResult {
  readonly id: string;
  readonly part: RequirementPart;
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
      part: requirement.part,
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
        !(requirement.exceptKinds ?? []).includes(anomaly.kind) &&
        (requirement.when?.(anomaly) ?? true),
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
