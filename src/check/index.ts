/**
 * The checkers: pure functions over the history of one scenario. Reporters and the runner
 * import from here only.
 */
export type { Anomaly, CheckContext, CheckResult, Checker, Validity } from './types.js';
export { mergeValidity } from './types.js';
export { DEFAULT_CHECKERS, type CheckerName } from './default-checkers.js';
export { runChecks, validityOfChecks } from './compose.js';
export { curlCommand, shellQuote } from './curl.js';
export {
  describeBodyDifference,
  describeByteDifference,
  type BodyDiffOptions,
  type BodyLike,
} from './body-diff.js';
export { describeJsonDifferences, jsonDifferences, type JsonDifference } from './json-diff.js';
export { compileJsonPaths, parseJsonPath, type PathSegment } from './json-path.js';
export { byScope, scopeId, type Scope } from './scope.js';
export {
  describeAttempt,
  describeOutcome,
  outcomeOf,
  respondedOf,
  type Outcome,
  type Responded,
} from './attempt-outcome.js';
export { effectReadings, type EffectCount, type EffectReadings } from './effect-count.js';
export { referenceOf, replaysOf } from './reference.js';
export { defineChecker, type Findings } from './findings.js';
export { effectsPerKey } from './effects-per-key.js';
export { replayIdenticalResponses } from './replay-identical.js';
export { conflictOnMismatch } from './conflict-on-mismatch.js';
export { inFlightDuplicates } from './in-flight.js';
export { keyNotStuck } from './liveness.js';
export { missingKeyRefused } from './missing-key.js';
export { tenantIsolation } from './tenant-isolation.js';
export { outOfOrderFinalState } from './out-of-order.js';
export { distinctKeysDistinctEffects } from './distinct-keys.js';
export { stepExpectations } from './expectations.js';
export { refusalContents } from './refusals.js';
export { failClosed } from './fail-closed.js';
export { downstreamEffectsPerKey, forwardedKeyStable } from './downstream.js';
