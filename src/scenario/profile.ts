import { IdemproofError } from '../errors.js';

/**
 * What an API promises about idempotency: which statuses it uses for refusals, what a replay
 * looks like, what happens after a 5xx, which windows it declares. Real APIs differ (see the
 * reference notes: IETF draft, Stripe, Adyen, Brandur), so these are parameters, never
 * constants inside a checker.
 */
export interface Profile {
  readonly name: string;
  /** Status(es) for the same key with a different payload. */
  readonly mismatchStatus: readonly number[];
  /**
   * Status(es) for a duplicate that arrives while the first is still processed. A duplicate
   * may always receive an identical replay instead (it may have waited, or come later).
   */
  readonly inFlightStatus: readonly number[];
  /** A request without the key: refused with one of these statuses, or processed normally. */
  readonly missingKey:
    | { readonly expect: 'refused'; readonly status: readonly number[] }
    | { readonly expect: 'processed' };
  /** A header every replay must carry, e.g. Idempotent-Replayed: true (Stripe); null: none. */
  readonly replayHeader: { readonly name: string; readonly value: string } | null;
  /** Response headers a replay must repeat exactly (lower-case). */
  readonly significantHeaders: readonly string[];
  /** What replay comparison ignores; empty by default, so every byte counts. */
  readonly replayIgnore: {
    readonly headers: readonly string[];
    /** JSON paths such as "$.request_id" removed from both bodies before comparing. */
    readonly jsonPaths: readonly string[];
  };
  /**
   * After a first attempt answered 5xx: must retries replay the error ('replay'), may they run
   * the request again ('re-execute'), or either. Whatever the policy, an effect that was
   * committed is never repeated.
   */
  readonly firstAttempt5xx: 'replay' | 're-execute' | 'either';
  /** How long the API declares it keeps keys (ms); null when it does not say. */
  readonly retentionMs: number | null;
  /**
   * The longest a key may keep answering "in progress" (an in-flight status) after its last
   * attempt started, in ms: past it the key is stuck. null: not judged.
   */
  readonly inProgressTimeoutMs: number | null;
  /** What the API's refusals (in flight, mismatch, missing key, 429) must carry. */
  readonly refusals: RefusalRules;
  /**
   * The parts of a request that make its fingerprint: a request under a used key that differs
   * in one of them is a mismatch to refuse; a difference elsewhere is the same request.
   */
  readonly fingerprint: FingerprintScope;
  /** Where it came from: 'built-in', or the profile file's path (profile-file.ts). */
  readonly source?: string | undefined;
  /** SHA-256 (hex) of the profile file, or of a built-in profile's JSON. */
  readonly sha256?: string | undefined;
  /** The fields a scenario's overrides replaced (they win over the profile). */
  readonly overridden?: readonly string[] | undefined;
}

export interface RefusalRules {
  /** Must in-flight refusals and 429s carry a Retry-After header? */
  readonly retryAfter: 'required' | 'optional';
  /** Must refusals be RFC 9457 problem details (application/problem+json with a type/title)? */
  readonly problemJson: boolean;
  /**
   * Stable error codes: the JSON path of the code member in a refusal's body, and the code of
   * each kind of refusal the API declares. null: no codes declared.
   */
  readonly codes: {
    readonly path: string;
    readonly inFlight?: string | undefined;
    readonly mismatch?: string | undefined;
    readonly missingKey?: string | undefined;
  } | null;
  /** Texts the body of a mismatch refusal must contain (e.g. an error type); empty: any. */
  readonly mismatchBody: readonly string[];
}

export interface FingerprintScope {
  readonly body: boolean;
  readonly query: boolean;
  readonly path: boolean;
  /** Request headers (lower-case) that are part of the fingerprint. */
  readonly headers: readonly string[];
}

const COMMON = {
  inFlightStatus: [409],
  significantHeaders: ['location', 'content-type'],
  replayIgnore: { headers: [], jsonPaths: [] },
  firstAttempt5xx: 'either',
  retentionMs: null,
  inProgressTimeoutMs: null,
  refusals: { retryAfter: 'optional', problemJson: false, codes: null, mismatchBody: [] },
  fingerprint: { body: true, query: true, path: true, headers: [] },
} as const;

export const PROFILES = {
  /** 409 for mismatch and in-flight (or an identical replay), 400 for a missing key. */
  default: {
    ...COMMON,
    name: 'default',
    // A key may answer in progress 5 s after its last attempt started, then it is stuck
    // (docs/checks-and-profiles.md, Liveness: short, so the follow-up of a stuck key stays short).
    inProgressTimeoutMs: 5000,
    mismatchStatus: [409],
    missingKey: { expect: 'refused', status: [400] },
    replayHeader: null,
    // "In progress, retry later" must say when (docs/checks-and-profiles.md, Refusals).
    refusals: { ...COMMON.refusals, retryAfter: 'required' },
  },
  /** draft-ietf-httpapi-idempotency-key-header-07: 422 mismatch, 409 in flight, 400 missing. */
  ietf: {
    ...COMMON,
    name: 'ietf',
    // The draft names no in-progress window (§2.6): the default's 5 s.
    inProgressTimeoutMs: 5000,
    mismatchStatus: [422],
    missingKey: { expect: 'refused', status: [400] },
    replayHeader: null,
    // Draft §2.7: each refusal answers a problem description (RFC 9457 problem details).
    refusals: { ...COMMON.refusals, problemJson: true },
  },
  /**
   * Stripe API v1: mismatch is an idempotency_error (400), in flight 409, replays carry
   * Idempotent-Replayed: true; the key is optional, so a request without one is processed.
   */
  stripe: {
    ...COMMON,
    name: 'stripe',
    // Stripe publishes no in-progress window: 10 s, the orphan takeover of Powertools' cache
    // layer (docs/checks-and-profiles.md, Liveness).
    inProgressTimeoutMs: 10_000,
    mismatchStatus: [400],
    missingKey: { expect: 'processed' },
    replayHeader: { name: 'idempotent-replayed', value: 'true' },
    firstAttempt5xx: 'replay',
    retentionMs: 24 * 60 * 60 * 1000,
    // docs.stripe.com/api/errors: in flight is code idempotency_key_in_use, a mismatch is an
    // error of type idempotency_error, both under {error: {...}}.
    refusals: {
      ...COMMON.refusals,
      codes: { path: '$.error.code', inFlight: 'idempotency_key_in_use' },
      mismatchBody: ['idempotency_error'],
    },
  },
} as const satisfies Record<string, Profile>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function profileByName(name: string): Profile {
  if (name in PROFILES) return PROFILES[name as ProfileName];
  throw new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `unknown profile '${name}'; expected one of: ${PROFILE_NAMES.join(', ')}`,
  );
}

/** A profile with some fields replaced (scenario overrides). Header names are lower-cased. */
export function overrideProfile(base: Profile, overrides: Partial<Profile>): Profile {
  const merged: Profile = { ...base, ...overrides, name: overrides.name ?? base.name };
  return {
    ...merged,
    significantHeaders: merged.significantHeaders.map((header) => header.toLowerCase()),
    replayHeader:
      merged.replayHeader === null
        ? null
        : { name: merged.replayHeader.name.toLowerCase(), value: merged.replayHeader.value },
    replayIgnore: {
      headers: merged.replayIgnore.headers.map((header) => header.toLowerCase()),
      jsonPaths: merged.replayIgnore.jsonPaths,
    },
    fingerprint: {
      ...merged.fingerprint,
      headers: merged.fingerprint.headers.map((header) => header.toLowerCase()),
    },
  };
}
