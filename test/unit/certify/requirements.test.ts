import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { conformanceScenario } from '../../../src/certify/certify.js';
import { evaluateRequirements, requirementsOf } from '../../../src/certify/requirements.js';
import type { Anomaly, CheckResult } from '../../../src/check/types.js';
import { DEMO_SUITE } from '../../../src/cli/demo-command.js';
import { loadScenarioFile } from '../../../src/scenario/load.js';
import { PROFILES } from '../../../src/scenario/profile.js';

const anomaly = (kind: string): Anomaly => ({
  kind,
  key: 'k-1',
  tenant: null,
  events: [1, 2],
  expected: 'one thing',
  actual: 'another',
  message: `${kind} happened`,
});

const check = (checker: string, partial: Partial<CheckResult> = {}): CheckResult => ({
  checker,
  valid: true,
  checked: 3,
  anomalies: [],
  notes: [],
  ...partial,
});

describe('certification requirements', () => {
  it('words each requirement with the profile’s own numbers', () => {
    const ietf = requirementsOf(PROFILES.ietf);
    expect(ietf.find((r) => r.id === 'R4')?.text).toContain('refused with 422');
    expect(ietf.some((r) => r.id === 'R3')).toBe(false);
    const stripe = requirementsOf(PROFILES.stripe);
    expect(stripe.find((r) => r.id === 'R3')?.text).toContain('idempotent-replayed: true');
    expect(stripe.find((r) => r.id === 'R6')?.text).toContain('processed like any other');
  });

  it('holds, violated or unknown from the checks, splitting one checker between two promises', () => {
    const requirements = requirementsOf(PROFILES.stripe);
    const results = evaluateRequirements(requirements, [
      check('effectsPerKey'),
      check('replayIdenticalResponses', {
        valid: false,
        anomalies: [anomaly('replay-marker-missing')],
      }),
      check('conflictOnMismatch', { valid: false, anomalies: [anomaly('mismatch-accepted')] }),
      check('inFlightDuplicates', { valid: 'unknown', notes: ['every burst timed out'] }),
      check('missingKeyRefused'),
      check('tenantIsolation', { checked: 0 }),
    ]);
    const by = (id: string) => results.find((result) => result.id === id);
    expect(by('R1')?.verdict).toBe('holds');
    expect(by('R2')?.verdict).toBe('holds');
    expect(by('R3')?.verdict).toBe('violated');
    expect(by('R3')?.anomalies).toHaveLength(1);
    expect(by('R4')?.verdict).toBe('violated');
    expect(by('R4')?.evidence).toContain('mismatch-accepted happened');
    expect(by('R5')).toMatchObject({ verdict: 'unknown', exercised: true });
    expect(by('R5')?.evidence).toContain('every burst timed out');
    expect(by('R7')).toMatchObject({ verdict: 'unknown', exercised: false, optional: true });
    expect(by('R7')?.evidence).toContain('two tenants');
    // No checker result at all: not exercised either.
    expect(by('R8')).toMatchObject({ verdict: 'unknown', exercised: false, optional: false });
  });

  it('builds a conformance scenario that loads like a file, with cross-tenant only for two tenants', async () => {
    const [loaded] = await loadScenarioFile(join(DEMO_SUITE, 'payments.yaml'));
    if (loaded === undefined) throw new Error('the demo scenario did not load');
    const folder = await mkdtemp(join(tmpdir(), 'idemproof-conformance-'));
    try {
      const scenario = conformanceScenario(loaded.scenario, 'ietf');
      const file = join(folder, 'conformance.yaml');
      await writeFile(file, stringify(scenario));
      const [reloaded] = await loadScenarioFile(file);
      expect(reloaded?.scenario.profile).toBe('ietf');
      const kinds = reloaded?.scenario.patterns.map((pattern) => pattern.kind) ?? [];
      expect(kinds).toEqual(
        expect.arrayContaining(['concurrent-burst', 'payload-mismatch', 'cross-tenant']),
      );
      // Every override of the scenario carries over (the demo's sets only its retention).
      expect(Object.keys(reloaded?.scenario.overrides ?? {})).toEqual(['retentionMs']);
      const alone = conformanceScenario(
        { ...loaded.scenario, target: { ...loaded.scenario.target, tenants: {} } },
        'default',
      );
      expect(alone.patterns.some((pattern) => pattern.kind === 'cross-tenant')).toBe(false);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
