import { attemptsOf } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import { describeAttempt, eventsOf, type Responded } from './attempt-outcome.js';
import { describeBodyDifference } from './body-diff.js';
import { compareBodies } from './body-compare.js';
import { curlCommand } from './curl.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { compileJsonPaths, type PathSegment } from './json-path.js';
import { judgeReExecution } from './re-execute.js';
import { referenceOf, replaysOf } from './reference.js';
import { byScope, type Scope } from './scope.js';
import { capitalize, keyName, listWithMore } from './wording.js';
import { headerDifferences, replayMarkerProblem } from './replay-headers.js';

/**
 * replayIdenticalResponses: every response a retry got under a key repeats the key's
 * reference response (see reference.ts): same status, same body bytes (or the same JSON once
 * the profile's ignored paths are removed), same significant headers; and, when the profile
 * names a replay header, every response to an attempt sent after the reference was stored
 * carries it. Under `firstAttempt5xx: 're-execute'`, a retry after a 5xx first answer must
 * not get that 5xx replayed (re-execute.ts).
 *
 * Must not: compare responses to a different payload (conflictOnMismatch does), in-flight
 * refusals or 429s, or count effects.
 */
function compareOne(
  scope: Scope,
  reference: Responded,
  replay: Responded,
  profile: Profile,
  ignore: readonly (readonly PathSegment[])[],
  findings: Findings,
): void {
  const name = keyName(scope.key, scope.tenant);
  const who = describeAttempt(replay.attempt);
  const base = {
    key: scope.key,
    tenant: scope.tenant,
    events: eventsOf(reference.attempt, replay.attempt),
    curl: curlCommand(replay.attempt.invoke.request),
  };
  const body = compareBodies(reference.response, replay.response, ignore);
  const bodyDiff = () =>
    describeBodyDifference(reference.response, replay.response, { ignoreJsonPaths: ignore });
  if (replay.status !== reference.status) {
    const policy =
      reference.status >= 500
        ? ' The profile says a 5xx is stored and replayed (firstAttempt5xx: replay).'
        : '';
    addAnomaly(findings, {
      ...base,
      kind: 'replay-status-differs',
      expected: `status ${reference.status}, as first answered`,
      actual: `status ${replay.status}${body.same === false ? `; body: ${bodyDiff()}` : ''}`,
      message:
        `${capitalize(name)}: ${who} got ${replay.status}, but the first response to this key ` +
        `was ${reference.status}${body.same === false ? ' (and the body differs too)' : ''}.${policy} ` +
        'A retry must get the stored response back; a new status means the API re-ran or rebuilt ' +
        'it. Store the status code with the response and replay both unchanged.',
    });
  } else if (body.same === 'unknown') {
    findings.unknowns.push({ subject: `${name}, ${who}`, reason: body.reason });
  } else if (!body.same) {
    const ignoring =
      ignore.length > 0 ? ` (ignoring ${profile.replayIgnore.jsonPaths.join(', ')})` : '';
    addAnomaly(findings, {
      ...base,
      kind: 'replay-body-differs',
      expected: `the body first answered${ignoring}: ${reference.response.bodyBytes} bytes, sha256 ${reference.response.bodySha256}`,
      actual: bodyDiff(),
      message:
        `${capitalize(name)}: ${who} got ${replay.status} like the first response, but a ` +
        `different body (${shortenDiff(bodyDiff())}). The API rebuilt or re-ran the response ` +
        'instead of replaying the stored bytes, so clients reading the retry see other values. ' +
        'Replay the stored body, or list fields that may change in replayIgnore.jsonPaths.',
    });
  }
  const headers = headerDifferences(reference.response, replay.response, profile);
  if (headers.length > 0) {
    addAnomaly(findings, {
      ...base,
      kind: 'replay-header-differs',
      expected: 'the significant headers first answered',
      actual: headers.join('; '),
      message:
        `${capitalize(name)}: ${who} got different headers than the first response ` +
        `(${listWithMore(headers, 3)}). Clients follow these headers; replay the stored ones, ` +
        'or add a header that may change to replayIgnore.headers.',
    });
  }
  if (profile.replayHeader !== null && replay.attempt.invoke.index > reference.completion.index) {
    const problem = replayMarkerProblem(replay.response, profile.replayHeader);
    if (problem !== undefined) {
      addAnomaly(findings, {
        ...base,
        kind: 'replay-marker-missing',
        expected: `header ${profile.replayHeader.name}: ${profile.replayHeader.value}`,
        actual: problem,
        message:
          `${capitalize(name)}: ${who} was sent after the first response was stored, but its ` +
          `response lacks '${profile.replayHeader.name}: ${profile.replayHeader.value}' ` +
          `(found: ${problem}). The profile says every replay carries it; clients use it to ` +
          'tell a replay from a new execution.',
      });
    }
  }
}

function shortenDiff(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}

export const replayIdenticalResponses = defineChecker(
  'replayIdenticalResponses',
  'no key got two responses to compare (a retry needs a first response to be compared with)',
  (history, { profile }, findings) => {
    const { paths, invalid } = compileJsonPaths(profile.replayIgnore.jsonPaths);
    for (const path of invalid) {
      findings.notes.push(
        `replayIgnore.jsonPaths entry '${path}' is not a path this checker understands ` +
          '($.field, $.a.b, $["odd key"], $.items[0], $.items[*].id); it was not applied.',
      );
    }
    for (const scope of byScope(attemptsOf(history))) {
      judgeReExecution(scope, profile, findings);
      const reference = referenceOf(scope.attempts, profile);
      if (reference === undefined) continue;
      const replays = replaysOf(scope.attempts, reference, profile);
      if (replays.length === 0) continue;
      findings.checked += 1;
      for (const replay of replays) compareOne(scope, reference, replay, profile, paths, findings);
    }
  },
);
