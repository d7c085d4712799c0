import { attemptsOf, headerValue, type Attempt } from '../history/events.js';
import type { Profile, RefusalRules } from '../scenario/profile.js';
import { describeAttempt, eventsOf, respondedOf, type Responded } from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { parseJsonPath, selectAtPath } from './json-path.js';
import { isJsonObject, parseJson } from './json-value.js';
import { scopeId } from './scope.js';
import { listWithMore, shorten } from './wording.js';

/**
 * refusalContents: refusals carry what the profile's `refusals` rules declare. An in-flight
 * refusal (a duplicate answered one of `inFlightStatus`) and every 429 carry a valid
 * Retry-After when `retryAfter` is required; in-flight, mismatch and missing-key refusals are
 * RFC 9457 problem details when `problemJson` is set; the member at `codes.path` holds the
 * code declared for the kind of refusal; a mismatch refusal's body contains each
 * `mismatchBody` text.
 *
 * Must not: judge which status a refusal has (conflictOnMismatch, inFlightDuplicates and
 * missingKeyRefused do), scripted steps (stepExpectations judges them), or apply when the
 * profile asks refusals for nothing.
 */

type RefusalKind = 'in-flight' | 'mismatch' | 'missing-key' | 'rate-limited';

/** How each kind of refusal is named after its status: "got 409 (refused in flight)". */
const KIND_NAMES: Record<RefusalKind, string> = {
  'in-flight': 'refused in flight',
  mismatch: 'a mismatch refused',
  'missing-key': 'refused for its missing key',
  'rate-limited': 'rate-limited',
};

/** "'retry 1' (lane clean) got 409 (refused in flight)". */
const answered = (judged: Judged): string =>
  `${judged.who} got ${judged.responded.status} (${KIND_NAMES[judged.kind]})`;

type KeyedKind = Exclude<RefusalKind, 'rate-limited'>;
const CODE_FIELD = {
  'in-flight': 'inFlight',
  mismatch: 'mismatch',
  'missing-key': 'missingKey',
} as const satisfies Record<KeyedKind, string>;

/** The code the profile declares for a kind of refusal, if any. */
function declaredCode(rules: RefusalRules, kind: RefusalKind): string | undefined {
  return kind === 'rate-limited' || rules.codes === null
    ? undefined
    : rules.codes[CODE_FIELD[kind]];
}

/** Does the profile ask refusals for anything at all? */
export function refusalRulesApply(rules: RefusalRules): boolean {
  return (
    rules.retryAfter === 'required' ||
    rules.problemJson ||
    rules.codes !== null ||
    rules.mismatchBody.length > 0
  );
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients accept. */
const HTTP_DATE = [
  new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`),
  new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`),
  new RegExp(`^${DAY} ${MONTH} (?: \\d|\\d{2}) ${TIME} \\d{4}$`),
];

/** RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds (1*DIGIT). */
export function isValidRetryAfter(value: string): boolean {
  const text = value.trim();
  if (/^\d+$/.test(text)) return true;
  return HTTP_DATE.some((form) => form.test(text)) && !Number.isNaN(Date.parse(text));
}

/** RFC 3986 URI-reference characters, with %-escapes well formed. */
const URI_REFERENCE = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

/** The kind of refusal an answered attempt is, per the profile; undefined when it is none. */
function kindOf(
  responded: Responded,
  scopeHasDifferent: boolean,
  profile: Profile,
): RefusalKind | undefined {
  const { invoke } = responded.attempt;
  const { status } = responded;
  if (status === 429) return 'rate-limited';
  if (!invoke.keySent) {
    const refused = profile.missingKey.expect === 'refused' ? profile.missingKey.status : [];
    return refused.includes(status) ? 'missing-key' : undefined;
  }
  const inFlight = profile.inFlightStatus.includes(status);
  const mismatch = profile.mismatchStatus.includes(status);
  if (invoke.variant === 'different') {
    if (mismatch && inFlight && carriesInFlightCode(responded, profile)) return 'in-flight';
    return mismatch ? 'mismatch' : inFlight ? 'in-flight' : undefined;
  }
  // An original under a key a different payload was sent to earlier may be a mismatch
  // refusal when both share a status; it is then judged as neither.
  if (inFlight && !(mismatch && scopeHasDifferent)) return 'in-flight';
  return undefined;
}

/** Does a refusal carry the in-flight code (so a status shared with mismatch is in flight)? */
function carriesInFlightCode(responded: Responded, profile: Profile): boolean {
  const code = declaredCode(profile.refusals, 'in-flight');
  const segments =
    profile.refusals.codes === null ? undefined : parseJsonPath(profile.refusals.codes.path);
  if (code === undefined || segments === undefined) return false;
  const body = parseJson(responded.response.body);
  return body.ok && selectAtPath(body.value, segments) === code;
}

interface Judged {
  readonly responded: Responded;
  readonly kind: RefusalKind;
  readonly who: string;
  readonly findings: Findings;
}

function report(
  judged: Judged,
  anomaly: { kind: string; expected: string; actual: string; message: string },
): void {
  const { attempt } = judged.responded;
  addAnomaly(judged.findings, {
    ...anomaly,
    key: attempt.invoke.keySent ? attempt.invoke.key : null,
    tenant: attempt.invoke.tenant,
    events: eventsOf(attempt),
    curl: curlCommand(attempt.invoke.request),
  });
}

function judgeRetryAfter(judged: Judged): void {
  const { response } = judged.responded;
  const values = response.headers
    .filter(([name]) => name.toLowerCase() === 'retry-after')
    .map(([, value]) => value);
  const what = answered(judged);
  if (values.length === 0) {
    report(judged, {
      kind: 'refusal-missing-retry-after',
      expected: 'a Retry-After header (profile refusals.retryAfter: required)',
      actual: 'no Retry-After header',
      message: `${what} without a Retry-After header. The client is told to try again later but not when, so it retries at once or gives up; send Retry-After with the seconds to wait (RFC 9110 §10.2.3).`,
    });
    return;
  }
  const value = values.join(', ');
  if (values.length === 1 && isValidRetryAfter(value)) return;
  report(judged, {
    kind: 'refusal-invalid-retry-after',
    expected: 'one Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)',
    actual: `Retry-After: ${shorten(value)}`,
    message: `${what} with Retry-After: ${shorten(value)}, which is not one delay in seconds (e.g. 1) or an HTTP-date (e.g. Sun, 06 Nov 1994 08:49:37 GMT). A client cannot tell when to retry.`,
  });
}

/** What is wrong with a body as RFC 9457 problem details, or undefined when it is one. */
function problemFault(value: unknown, status: number): string | undefined {
  if (!isJsonObject(value)) return 'the body is not a JSON object';
  const faults: string[] = [];
  const { type, title, detail } = value;
  if (type !== undefined && (typeof type !== 'string' || !URI_REFERENCE.test(type)))
    faults.push(`"type" is ${shorten(JSON.stringify(type), 40)}, not a URI reference`);
  if (title !== undefined && typeof title !== 'string') faults.push('"title" is not a string');
  if (detail !== undefined && typeof detail !== 'string') faults.push('"detail" is not a string');
  if (value.status !== undefined && value.status !== status)
    faults.push(`"status" is ${shorten(JSON.stringify(value.status), 20)}, not ${status}`);
  return faults.length === 0 ? undefined : listWithMore(faults);
}

function judgeProblem(judged: Judged): void {
  const { response, status } = judged.responded;
  const contentType = headerValue(response.headers, 'content-type') ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const parsed = parseJson(response.body);
  const fault =
    mediaType !== 'application/problem+json'
      ? `its Content-Type is ${contentType === '' ? 'missing' : shorten(contentType, 60)}`
      : response.bodyTruncated
        ? undefined
        : parsed.ok
          ? problemFault(parsed.value, status)
          : 'the body is not JSON';
  if (fault === undefined) {
    if (response.bodyTruncated && mediaType === 'application/problem+json')
      judged.findings.unknowns.push({
        subject: judged.who,
        reason: 'its problem body was cut at the recording limit, so its members were not read',
      });
    return;
  }
  report(judged, {
    kind: 'refusal-not-problem-json',
    expected:
      'RFC 9457 problem details: Content-Type application/problem+json, a JSON object whose type is a URI reference, title and detail strings, status the HTTP status (profile refusals.problemJson)',
    actual: fault,
    message: `${answered(judged)}, which is not RFC 9457 problem details: ${fault}. Clients of this API read refusals as application/problem+json; answer one with type, title, status and detail.`,
  });
}

function judgeCode(judged: Judged, code: string, codes: NonNullable<RefusalRules['codes']>): void {
  const field = CODE_FIELD[judged.kind as KeyedKind];
  const segments = parseJsonPath(codes.path);
  const { response } = judged.responded;
  if (segments === undefined) {
    judged.findings.unknowns.push({
      subject: judged.who,
      reason: `the profile's refusals.codes.path '${codes.path}' is not a JSON path this tool reads (e.g. $.error.code)`,
    });
    return;
  }
  const parsed = parseJson(response.body);
  if (!parsed.ok && response.bodyTruncated) {
    judged.findings.unknowns.push({
      subject: judged.who,
      reason: 'its body was cut at the recording limit, so its code was not read',
    });
    return;
  }
  const found = parsed.ok ? selectAtPath(parsed.value, segments) : undefined;
  if (found === code) return;
  const actual = !parsed.ok
    ? 'the body is not JSON'
    : found === undefined
      ? `nothing at ${codes.path}`
      : `${codes.path} is ${shorten(JSON.stringify(found), 60)}`;
  report(judged, {
    kind: 'refusal-wrong-code',
    expected: `${codes.path} = ${JSON.stringify(code)} (profile refusals.codes.${field})`,
    actual,
    message: `${answered(judged)}, but ${actual}; the API declares the code ${JSON.stringify(code)} for it. Clients branch on stable codes, so a missing or changed code breaks their retry logic.`,
  });
}

function judgeMismatchBody(judged: Judged, texts: readonly string[]): void {
  const { response } = judged.responded;
  const missing = texts.filter((text) => !response.body.includes(text));
  if (missing.length === 0) return;
  if (response.bodyTruncated) {
    judged.findings.unknowns.push({
      subject: judged.who,
      reason:
        'its body was cut at the recording limit, so the texts it must contain were not all found',
    });
    return;
  }
  const named = listWithMore(missing.map((text) => `'${shorten(text, 40)}'`));
  report(judged, {
    kind: 'refusal-body-missing-text',
    expected: `a body containing ${named} (profile refusals.mismatchBody)`,
    actual: `body: ${shorten(response.body)}`,
    message: `${answered(judged)}, and its body does not contain ${named}. The API declares that text so a client can tell a reused key from other errors.`,
  });
}

function judge(
  responded: Responded,
  kind: RefusalKind,
  profile: Profile,
  findings: Findings,
): void {
  const rules = profile.refusals;
  const judged: Judged = { responded, kind, who: describeAttempt(responded.attempt), findings };
  const retryAfter =
    rules.retryAfter === 'required' && (kind === 'in-flight' || kind === 'rate-limited');
  const problem = rules.problemJson && kind !== 'rate-limited';
  const code = declaredCode(rules, kind);
  const body = kind === 'mismatch' && rules.mismatchBody.length > 0;
  if (!retryAfter && !problem && code === undefined && !body) return;
  findings.checked += 1;
  if (retryAfter) judgeRetryAfter(judged);
  if (problem) judgeProblem(judged);
  if (code !== undefined && rules.codes !== null) judgeCode(judged, code, rules.codes);
  if (body) judgeMismatchBody(judged, rules.mismatchBody);
}

/** The attempts sent after a different payload under the same key and tenant. */
function differentSentBefore(attempts: readonly Attempt[]): Set<Attempt> {
  const seen = new Set<string>();
  const after = new Set<Attempt>();
  for (const attempt of attempts) {
    const scope = scopeId(attempt.invoke.key ?? '', attempt.invoke.tenant);
    if (seen.has(scope)) after.add(attempt);
    if (attempt.invoke.variant === 'different') seen.add(scope);
  }
  return after;
}

export const refusalContents = defineChecker(
  'refusalContents',
  'the profile asks refusals for nothing (refusals: no Retry-After, problem details, codes or texts), or no refusal was answered',
  (history, { profile }, findings) => {
    if (!refusalRulesApply(profile.refusals)) return;
    const attempts = attemptsOf(history).filter(
      (attempt) => attempt.invoke.patternKind !== 'steps',
    );
    const afterDifferent = differentSentBefore(attempts);
    for (const attempt of attempts) {
      const responded = respondedOf(attempt);
      if (responded === undefined) continue;
      const kind = kindOf(responded, afterDifferent.has(attempt), profile);
      if (kind !== undefined) judge(responded, kind, profile, findings);
    }
  },
);
