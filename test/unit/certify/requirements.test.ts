import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { conformanceScenario } from '../../../src/certify/certify.js';
import {
  answeredStatus,
  evaluateRequirements,
  requirementsOf,
} from '../../../src/certify/requirements.js';
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
    expect(ietf.find((r) => r.id === 'P1')?.text).toContain('refused with 422');
    expect(ietf.some((r) => r.id === 'P4')).toBe(false);
    expect(ietf.find((r) => r.id === 'P5')?.text).toContain('problem details');
    const stripe = requirementsOf(PROFILES.stripe);
    expect(stripe.find((r) => r.id === 'P4')?.text).toContain('idempotent-replayed: true');
    expect(stripe.find((r) => r.id === 'P3')?.text).toContain('processed like any other');
    expect(stripe.find((r) => r.id === 'D5')?.text).toContain('10000 ms');
  });

  it('puts the choices in the profile part and what no profile excuses in the defect part', () => {
    const parts = Object.fromEntries(
      requirementsOf(PROFILES.stripe).map((requirement) => [requirement.id, requirement.part]),
    );
    expect(parts).toMatchObject({ P1: 'profile', P3: 'profile', P4: 'profile', P5: 'profile' });
    expect(parts).toMatchObject({ D1: 'defect', D2: 'defect', D3: 'defect', D4: 'defect' });
    expect(parts).toMatchObject({ D5: 'defect', D7: 'defect' });
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
    expect(by('D1')?.verdict).toBe('holds');
    expect(by('D2')?.verdict).toBe('holds');
    expect(by('P4')?.verdict).toBe('violated');
    expect(by('P4')?.anomalies).toHaveLength(1);
    // An accepted mismatch is a defect; the profile's mismatch status still holds.
    expect(by('D3')?.verdict).toBe('violated');
    expect(by('D3')?.evidence).toContain('mismatch-accepted happened');
    expect(by('P1')?.verdict).toBe('holds');
    expect(by('D4')).toMatchObject({ verdict: 'unknown', exercised: true });
    expect(by('D4')?.evidence).toContain('every burst timed out');
    expect(by('D7')).toMatchObject({ verdict: 'unknown', exercised: false, optional: true });
    expect(by('D7')?.evidence).toContain('two tenants');
    // No checker result at all: not exercised either.
    expect(by('D8')).toMatchObject({ verdict: 'unknown', exercised: false, optional: false });
  });

  it('sorts a refusal by the status answered: another 4xx is a choice, a 2xx or 5xx a defect', () => {
    const requirements = requirementsOf(PROFILES.ietf);
    const wrong = (actual: string): Anomaly => ({ ...anomaly('mismatch-wrong-status'), actual });
    const judge = (actual: string) => {
      const results = evaluateRequirements(requirements, [
        check('conflictOnMismatch', { valid: false, anomalies: [wrong(actual)] }),
      ]);
      return [
        results.find((r) => r.id === 'P1')?.verdict,
        results.find((r) => r.id === 'D3')?.verdict,
      ];
    };
    expect(judge('409')).toEqual(['violated', 'holds']);
    expect(judge('500')).toEqual(['holds', 'violated']);
    expect(
      answeredStatus({ ...anomaly('in-flight-wrong-response'), actual: '423: status 201 vs 423' }),
    ).toBe(423);
    expect(answeredStatus(anomaly('x'))).toBeUndefined();
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
