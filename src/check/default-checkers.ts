import { conflictOnMismatch } from './conflict-on-mismatch.js';
import { distinctKeysDistinctEffects } from './distinct-keys.js';
import { downstreamEffectsPerKey, forwardedKeyStable } from './downstream.js';
import { effectsPerKey } from './effects-per-key.js';
import { failClosed } from './fail-closed.js';
import { stepExpectations } from './expectations.js';
import { inFlightDuplicates } from './in-flight.js';
import { keyNotStuck } from './liveness.js';
import { missingKeyRefused } from './missing-key.js';
import { outOfOrderFinalState } from './out-of-order.js';
import { refusalContents } from './refusals.js';
import { replayIdenticalResponses } from './replay-identical.js';
import { tenantIsolation } from './tenant-isolation.js';
import type { Checker } from './types.js';

/**
 * Every checker idemproof runs on a scenario, by the name reports show, in the order they
 * run. Each one applies only when the history holds what it checks, and says "not applicable"
 * otherwise, so running all of them on every scenario is safe.
 */
export const DEFAULT_CHECKERS = {
  effectsPerKey,
  replayIdenticalResponses,
  conflictOnMismatch,
  inFlightDuplicates,
  keyNotStuck,
  missingKeyRefused,
  refusalContents,
  tenantIsolation,
  outOfOrderFinalState,
  distinctKeysDistinctEffects,
  stepExpectations,
  downstreamEffectsPerKey,
  forwardedKeyStable,
  failClosed,
} as const satisfies Readonly<Record<string, Checker>>;

export type CheckerName = keyof typeof DEFAULT_CHECKERS;
