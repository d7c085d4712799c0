import { describe, expect, it } from 'vitest';
// The process flaws show only when the target crashes: process-faults.test.ts catches them.
import type { FlawName, ProcessFlawName } from '../../../src/demo/flaws.js';
import { runBuiltInSuite } from '../../support/suite.js';

/**
 * For each flaw of the demo target, the checks that must fail. Other checks may fail too (one
 * bug often breaks several promises); these are the ones that name the mistake.
 */
const EXPECTED: Record<Exclude<FlawName, ProcessFlawName>, string[]> = {
  'no-idempotency': [
    'demo payments › effectsPerKey',
    'demo payments › missingKeyRefused',
    'demo orders › outOfOrderFinalState',
  ],
  'check-then-insert': ['demo payments › effectsPerKey'],
  'no-payload-check': ['demo payments › conflictOnMismatch', 'demo orders › conflictOnMismatch'],
  'regenerated-replay': ['demo payments › replayIdenticalResponses'],
  'unscoped-keys': ['demo payments › tenantIsolation'],
  'ttl-units': ['demo payments › effectsPerKey'],
  'release-on-disconnect': ['demo payments › effectsPerKey'],
  'missing-retry-after': ['demo payments › refusalContents'],
  'stuck-after-abort': ['demo payments › keyNotStuck'],
  '500-then-409': ['demo payments › keyNotStuck'],
  'trusted-client-header': ['demo payments › keyNotStuck'],
  'unforwarded-key': [
    'demo flaky downstream › downstreamEffectsPerKey',
    'demo flaky downstream › forwardedKeyStable',
  ],
  'new-key-per-retry': [
    'demo flaky downstream › downstreamEffectsPerKey',
    'demo flaky downstream › forwardedKeyStable',
  ],
  'fail-open': ['demo dependency chaos › failClosed', 'demo dependency chaos › effectsPerKey'],
};

describe('the built-in suite against each flaw of the demo target', () => {
  it.each(Object.keys(EXPECTED) as (keyof typeof EXPECTED)[])(
    '%s fails the checks that name it',
    async (flaw) => {
      const run = await runBuiltInSuite(flaw);
      expect(run.result.valid).toBe(false);
      expect(run.failed).toEqual(expect.arrayContaining(EXPECTED[flaw]));
      // Every violation explains itself and can be reproduced.
      for (const scenario of run.result.scenarios) {
        for (const check of scenario.checks) {
          for (const anomaly of check.anomalies) {
            expect(anomaly.message.length, `${check.checker} ${anomaly.kind}`).toBeGreaterThan(20);
            expect(anomaly.events.length).toBeGreaterThan(0);
          }
        }
      }
      expect(run.output).toContain('FAIL');
    },
  );
});
