import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluateRequirements, requirementsOf } from '../../../src/certify/requirements.js';
import { inferProfile, nearestBuiltIn, profileFileText } from '../../../src/certify/suggest.js';
import type { Anomaly, CheckResult } from '../../../src/check/types.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { profileFileSchema } from '../../../src/scenario/profile-schema.js';

const anomaly = (kind: string, actual: string): Anomaly => ({
  kind,
  key: 'k-1',
  tenant: null,
  events: [1, 2],
  expected: 'something',
  actual,
  message: `${kind}: ${actual}`,
});

const check = (checker: string, anomalies: Anomaly[], checked = anomalies.length): CheckResult => ({
  checker,
  valid: anomalies.length === 0 ? true : false,
  checked,
  anomalies,
  notes: [],
});

describe('certify --suggest-profile: the profile a target follows', () => {
  it('changes each choice the target made differently, from what it answered', () => {
    const checks = [
      check('conflictOnMismatch', [anomaly('mismatch-wrong-status', '409')]),
      check('missingKeyRefused', [anomaly('missing-key-wrong-status', '400')]),
      check('replayIdenticalResponses', [anomaly('replay-marker-missing', 'no marker')], 5),
      check('refusalContents', [anomaly('refusal-wrong-code', 'no code')]),
      // A defect changes nothing: no profile excuses a double effect.
      check('effectsPerKey', [anomaly('duplicate-effect', '2 effects')]),
    ];
    const results = evaluateRequirements(requirementsOf(PROFILES.stripe), checks);
    const conformance = results.filter((result) => result.part === 'profile');
    const { profile, changes } = inferProfile(PROFILES.stripe, conformance, checks);
    expect(profile.mismatchStatus).toEqual([409]);
    expect(profile.missingKey).toEqual({ expect: 'refused', status: [400] });
    expect(profile.replayHeader).toBeNull();
    expect(profile.refusals.codes).toBeNull();
    expect(changes).toHaveLength(4);
    expect(changes[0]).toContain('refused with 409');
    expect(changes.join('\n')).not.toContain('effect');
  });

  it("keeps the profile's statuses where some answers had them, and adds the ones seen", () => {
    const checks = [check('conflictOnMismatch', [anomaly('mismatch-wrong-status', '409')], 3)];
    const conformance = evaluateRequirements(requirementsOf(PROFILES.ietf), checks).filter(
      (result) => result.part === 'profile',
    );
    expect(inferProfile(PROFILES.ietf, conformance, checks).profile.mismatchStatus).toEqual([
      409, 422,
    ]);
  });

  it('writes a profile file that extends the nearest built-in profile and validates', () => {
    const profile = {
      ...PROFILES.ietf,
      mismatchStatus: [409],
      refusals: PROFILES.default.refusals,
    };
    const nearest = nearestBuiltIn(profile);
    expect(nearest.extends).toBe('default');
    expect(nearest.fields).toEqual({});
    const stripeLike = nearestBuiltIn({ ...PROFILES.stripe, mismatchStatus: [409] });
    expect(stripeLike).toEqual({ extends: 'stripe', fields: { mismatchStatus: [409] } });
    const text = profileFileText('acme-suggested', stripeLike, ['seen on a run']);
    expect(text.startsWith('# seen on a run\n')).toBe(true);
    const parsed = profileFileSchema.safeParse(parse(text));
    expect(parsed.success).toBe(true);
    expect(parsed.data).toMatchObject({ name: 'acme-suggested', extends: 'stripe' });
  });
});
