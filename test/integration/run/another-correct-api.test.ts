import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runSuite } from '../../../src/run/run.js';
import {
  startWaitAndReplayTarget,
  WAIT_AND_REPLAY_SCENARIO,
  type WaitAndReplayTarget,
} from '../../support/wait-and-replay-target.js';

/**
 * No false alarms: a correct API that differs from the demo in every choice the contracts
 * leave open must pass every check that applies, under the profile that describes it.
 */
describe('another correct API, with other choices than the demo', () => {
  let folder: string;
  let target: WaitAndReplayTarget;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-other-api-'));
    target = await startWaitAndReplayTarget();
  });
  afterAll(async () => {
    await target.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('passes every pattern under the IETF profile with optional keys', async () => {
    const path = join(folder, 'shipments.yaml');
    await writeFile(
      path,
      `name: shipments
${WAIT_AND_REPLAY_SCENARIO}profile: ietf
overrides:
  missingKey: { expect: processed }
  # Its refusals are plain JSON with a stable message, not the draft's problem details.
  refusals: { codes: { path: $.error, mismatch: idempotency key reused with another payload } }
faults: { slowMs: 400 }
patterns:
  - kind: sequential-duplicates
    count: 5
    lanes: [clean, lost-response, blackhole]
  - kind: concurrent-burst
    count: 12
  - kind: payload-mismatch
  - kind: lost-response
  - kind: lost-request
  - kind: slow-timeout
    lane: slow-request
    clientTimeoutMs: 150
    retryAtMs: [50]
    settleMs: 600
  - kind: slow-timeout
    lane: slow-response
    clientTimeoutMs: 150
    retryAtMs: [50, 300]
    settleMs: 500
  - kind: delayed-retries
    delaysMs: [100, 400]
  - kind: missing-key
  - kind: cross-tenant
  - kind: distinct-keys
`,
    );
    const { result } = await runSuite({
      paths: [path],
      target: target.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, 'reports'),
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    const scenario = result.scenarios[0];
    expect(scenario?.error).toBeNull();
    const notHolding = (scenario?.checks ?? [])
      .filter((check) => check.valid !== true)
      .map(
        (check) =>
          `${check.checker}: ${String(check.valid)} ${check.anomalies.map((anomaly) => anomaly.message).join(' | ')} ${check.notes.join(' ')}`,
      );
    expect(notHolding).toEqual([]);
    const applied = (scenario?.checks ?? [])
      .filter((check) => check.checked > 0)
      .map((check) => check.checker);
    expect(applied).toEqual(
      expect.arrayContaining([
        'effectsPerKey',
        'replayIdenticalResponses',
        'conflictOnMismatch',
        'inFlightDuplicates',
        'missingKeyRefused',
        'refusalContents',
        'tenantIsolation',
        'distinctKeysDistinctEffects',
      ]),
    );
  });
});
