import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileJsonSchema } from '../../../src/scenario/json-schema.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import {
  builtInProfile,
  isProfilePath,
  loadProfileFile,
  loadProfileOption,
  overrideNotice,
  profileNotices,
  withScenarioOverrides,
} from '../../../src/scenario/profile-file.js';
import { scenarioSchema } from '../../../src/scenario/schema.js';

const EXAMPLES = join(import.meta.dirname, '../../../profiles');

describe('profile files', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-profile-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function profileFile(name: string, text: string): Promise<string> {
    const path = join(folder, name);
    await writeFile(path, text);
    return path;
  }

  it('tells a file from a built-in name', () => {
    expect(isProfilePath('stripe')).toBe(false);
    expect(isProfilePath('acme.yaml')).toBe(true);
    expect(isProfilePath('acme.json')).toBe(true);
    expect(isProfilePath('./acme')).toBe(true);
    expect(isProfilePath('profiles/acme.yml')).toBe(true);
  });

  it('loads each example profile file, with its source and the SHA-256 of its bytes', async () => {
    const stripe = await loadProfileFile(join(EXAMPLES, 'stripe.yaml'));
    const bytes = await readFile(join(EXAMPLES, 'stripe.yaml'));
    expect(stripe).toMatchObject({
      name: 'stripe-v1',
      mismatchStatus: [400],
      inFlightStatus: [409],
      missingKey: { expect: 'processed' },
      replayHeader: { name: 'idempotent-replayed', value: 'true' },
      firstAttempt5xx: 'replay',
      retentionMs: 86_400_000,
      refusals: {
        codes: { path: '$.error.code', inFlight: 'idempotency_key_in_use' },
        mismatchBody: ['idempotency_error'],
      },
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(stripe.source).toMatch(/profiles[/\\]stripe\.yaml$/);
    const { name: _stripeFile, source: _s, sha256: _h, ...stripeFields } = stripe;
    const { name: _stripeBuiltIn, ...stripeBuiltIn } = PROFILES.stripe;
    expect(stripeFields).toEqual(stripeBuiltIn);

    const ietf = await loadProfileFile(join(EXAMPLES, 'ietf.yaml'));
    expect(ietf).toMatchObject({
      name: 'ietf-draft-07',
      mismatchStatus: [422],
      missingKey: { expect: 'refused', status: [400] },
      replayHeader: null,
    });
    // Written out in full, the file says what the built-in ietf profile says.
    const { name: _file, source: _source, sha256: _sha, ...fileFields } = ietf;
    const { name: _builtIn, ...builtInFields } = PROFILES.ietf;
    expect(fileFields).toEqual(builtInFields);

    // Powertools-style extends ietf and states only what differs.
    const powertools = await loadProfileFile(join(EXAMPLES, 'powertools.yaml'));
    expect(powertools).toMatchObject({
      name: 'powertools-style',
      mismatchStatus: [422],
      inFlightStatus: PROFILES.ietf.inFlightStatus,
      missingKey: { expect: 'processed' },
      replayHeader: null,
      retentionMs: 3_600_000,
      fingerprint: PROFILES.ietf.fingerprint,
      refusals: { ...PROFILES.ietf.refusals, problemJson: false },
    });
  });

  it('ships the JSON Schema of profile files, up to date', async () => {
    const shipped = JSON.parse(
      await readFile(join(EXAMPLES, 'profile.schema.json'), 'utf8'),
    ) as unknown;
    expect(
      shipped,
      'regenerate with: node dist/cli/bin.js schema --profile > profiles/profile.schema.json',
    ).toEqual(profileJsonSchema());
  });

  it('reads JSON too, and a built-in profile by name', async () => {
    const path = await profileFile(
      'acme.json',
      JSON.stringify({ name: 'acme', extends: 'default', mismatchStatus: [417] }),
    );
    const acme = await loadProfileOption(path);
    expect(acme).toMatchObject({ name: 'acme', mismatchStatus: [417], inFlightStatus: [409] });
    const ietf = await loadProfileOption('ietf');
    expect(ietf).toMatchObject({ name: 'ietf', source: 'built-in' });
    expect(ietf.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(builtInProfile('ietf').sha256).toBe(ietf.sha256);
    await expect(loadProfileOption('acme')).rejects.toThrow(/unknown profile 'acme'/);
  });

  it('names file:line:col and the field of each problem', async () => {
    const path = await profileFile(
      'bad.yaml',
      [
        'name: bad',
        'extends: default',
        'mismatchStatus: [409, 99]',
        'fingerprint: { body: yes }',
        'colour: blue',
      ].join('\n'),
    );
    const error = await loadProfileFile(path).catch((caught: unknown) => caught);
    const message = String((error as Error).message);
    expect(message).toMatch(/^invalid profile:/);
    expect(message).toMatch(/bad\.yaml:3:23 at mismatchStatus\[1\]: /);
    expect(message).toMatch(/bad\.yaml:4:22 at fingerprint\.body: /);
    expect(message).toMatch(/bad\.yaml:\d+:\d+ at the document: Unrecognized key: "colour"/);
  });

  it('requires the fields the built-ins differ in when the file extends none', async () => {
    const path = await profileFile('bare.yaml', 'name: bare\nmismatchStatus: [422]\n');
    await expect(loadProfileFile(path)).rejects.toThrow(
      /bare\.yaml:\d+:\d+ at missingKey: missing: give missingKey, or start from a built-in profile with extends: default\|ietf\|stripe/,
    );
    const unnamed = await profileFile('unnamed.yaml', 'extends: ietf\n');
    await expect(loadProfileFile(unnamed)).rejects.toThrow(/at name: missing/);
  });

  it('refuses what is not a regular file, and YAML errors with their position', async () => {
    await expect(loadProfileFile(folder)).rejects.toThrow(/not a regular file \(a folder\)/);
    const path = await profileFile('broken.yaml', 'name: x\nmismatchStatus: [422\n');
    await expect(loadProfileFile(path)).rejects.toThrow(/broken\.yaml:\d+:\d+: invalid YAML/);
  });
});

describe('scenario overrides over a profile', () => {
  it('accepts every profile field as an override, as before', () => {
    const overrides = scenarioSchema.shape.overrides.parse({
      mismatchStatus: [417],
      missingKey: { expect: 'processed' },
      replayIgnore: { headers: ['Date'] },
      inProgressTimeoutMs: 5000,
      fingerprint: { query: false },
    });
    expect(overrides).toMatchObject({
      replayIgnore: { headers: ['Date'], jsonPaths: [] },
      fingerprint: { body: true, query: false, path: true, headers: [] },
    });
    expect(() => scenarioSchema.shape.overrides.parse({ name: 'x' })).toThrow();
  });

  it('lets the overrides win and names the fields they changed', () => {
    const profile = withScenarioOverrides('stripe', {
      mismatchStatus: [409],
      inFlightStatus: [409], // the same as stripe's: not a change
      missingKey: { expect: 'refused', status: [400] },
    });
    expect(profile).toMatchObject({
      name: 'stripe',
      mismatchStatus: [409],
      missingKey: { expect: 'refused', status: [400] },
      replayHeader: PROFILES.stripe.replayHeader,
      source: 'built-in',
      overridden: ['mismatchStatus', 'missingKey'],
    });
    expect(overrideNotice('payments', profile)).toBe(
      "scenario 'payments' overrides mismatchStatus, missingKey of profile 'stripe' (built-in): the scenario's values win",
    );
    expect(overrideNotice('payments', withScenarioOverrides('stripe', {}))).toBeUndefined();
  });

  it('prints one notice per scenario whose overrides replace fields of --profile', () => {
    const scenario = (name: string, overrides: object) =>
      ({ file: `${name}.yaml`, scenario: { name, overrides } }) as never;
    const lines = profileNotices(
      [scenario('a', { retentionMs: 1000 }), scenario('b', {})],
      builtInProfile('default'),
    );
    expect(lines).toEqual([
      "scenario 'a' overrides retentionMs of profile 'default' (built-in): the scenario's values win",
    ]);
    expect(profileNotices([scenario('a', { retentionMs: 1000 })], undefined)).toEqual([]);
  });
});
