import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import { planFor, resolveProfile } from '../../../src/run/run-scenario.js';
import { loadScenarioFile, type LoadedScenario } from '../../../src/scenario/load.js';
import { builtInProfile, profileNotices } from '../../../src/scenario/profile-file.js';

const ACME = `name: acme
extends: default
mismatchStatus: [418]
retentionMs: 3000
`;

const scenarioText = (profile: string, extra = ''): string => `name: with a profile file
target: { baseUrl: http://127.0.0.1:8080, path: /orders }
payload: { template: { sku: 'A-{{marker}}' } }
effects: { http: { url: '/orders?key={{key}}', count: $.count } }
profile: ${profile}
patterns:
  - kind: sequential-duplicates
${extra}`;

async function failure(path: string): Promise<{ code: string; message: string }> {
  const error: unknown = await loadScenarioFile(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isIdemproofError(error)) throw new Error(`expected a scenario error, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe("a scenario's profile: naming a profile file", () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-scenario-profile-'));
    await mkdir(join(folder, 'profiles'));
    await mkdir(join(folder, 'scenarios'));
    await writeFile(join(folder, 'profiles', 'acme.yaml'), ACME);
    await writeFile(join(folder, 'scenarios', 'near.yaml'), ACME.replace('acme', 'near'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function scenario(name: string, text: string): Promise<LoadedScenario> {
    const path = join(folder, 'scenarios', name);
    await writeFile(path, text);
    const [loaded] = await loadScenarioFile(path);
    if (loaded === undefined) throw new Error('no scenario loaded');
    return loaded;
  }

  it('loads the file relative to the scenario, with its source and SHA-256', async () => {
    const loaded = await scenario('up.yaml', scenarioText('../profiles/acme.yaml'));
    expect(loaded.profileFile).toMatchObject({ name: 'acme', mismatchStatus: [418] });
    expect(loaded.profileFile?.source).toMatch(/profiles[/\\]acme\.yaml$/);
    expect(loaded.profileFile?.sha256).toBe(createHash('sha256').update(ACME).digest('hex'));
    const profile = resolveProfile(loaded, undefined);
    expect(profile).toMatchObject({ name: 'acme', mismatchStatus: [418], retentionMs: 3000 });
    // Fields the file leaves out come from what it extends.
    expect(profile.missingKey).toEqual({ expect: 'refused', status: [400] });

    const near = await scenario('near-one.yaml', scenarioText('./near.yaml'));
    expect(resolveProfile(near, undefined).name).toBe('near');
  });

  it('--profile wins over it; the overrides win over both', async () => {
    const loaded = await scenario(
      'overridden.yaml',
      `${scenarioText('../profiles/acme.yaml')}overrides: { inFlightStatus: [425] }\n`,
    );
    const own = resolveProfile(loaded, undefined);
    expect(own).toMatchObject({ name: 'acme', mismatchStatus: [418], inFlightStatus: [425] });
    expect(own.overridden).toEqual(['inFlightStatus']);

    const named = resolveProfile(loaded, 'stripe');
    expect(named).toMatchObject({ name: 'stripe', mismatchStatus: [400], inFlightStatus: [425] });
    const file = resolveProfile(loaded, builtInProfile('ietf'));
    expect(file).toMatchObject({ name: 'ietf', mismatchStatus: [422], inFlightStatus: [425] });

    const notices = profileNotices([loaded], builtInProfile('ietf'));
    expect(notices[0]).toMatch(
      /names profile 'acme' \(.*acme\.yaml\); --profile 'ietf' \(built-in\) wins/,
    );
    expect(notices[1]).toContain('overrides inFlightStatus');
  });

  it("plans with the file's values: a retention it declares", async () => {
    const pattern = '  - kind: delayed-retries\n    delaysMs: [1000, 5000]\n';
    const own = await scenario('delays.yaml', scenarioText('../profiles/acme.yaml', pattern));
    const notes = planFor(own, { seed: 1, run: 'r', profileOverride: undefined }).flatMap(
      (plan) => plan.notes,
    );
    expect(notes.join('\n')).toContain('after the declared retention of 3000 ms');
    const builtIn = await scenario('delays-default.yaml', scenarioText('default', pattern));
    expect(
      planFor(builtIn, { seed: 1, run: 'r', profileOverride: undefined }).flatMap(
        (plan) => plan.notes,
      ),
    ).toEqual([]);

    // execute-again needs a declared retention: the profile file declares one.
    const again = await scenario(
      'again.yaml',
      scenarioText(
        '../profiles/acme.yaml',
        '  - kind: delayed-retries\n    delaysMs: [3500]\n    afterRetention: execute-again\n',
      ),
    );
    expect(again.profileFile?.retentionMs).toBe(3000);
  });

  it('a missing profile file is a scenario error naming both files and the field', async () => {
    const path = join(folder, 'scenarios', 'missing.yaml');
    await writeFile(path, scenarioText('../profiles/nowhere.yaml'));
    const { code, message } = await failure(path);
    expect(code).toBe('IDEMPROOF_ERR_SCENARIO');
    expect(message).toMatch(
      /missing\.yaml:5:10 at profile: cannot use the profile file '\.\.\/profiles\/nowhere\.yaml'/,
    );
    expect(message).toMatch(/nowhere\.yaml: cannot read/);
  });

  it("an invalid profile file is a scenario error with the file's own line and column", async () => {
    await writeFile(
      join(folder, 'profiles', 'bad.yaml'),
      'name: bad\nextends: ietf\nmismatchStatus: [99]\n',
    );
    const path = join(folder, 'scenarios', 'bad-profile.yaml');
    await writeFile(path, scenarioText('../profiles/bad.yaml'));
    const { code, message } = await failure(path);
    expect(code).toBe('IDEMPROOF_ERR_SCENARIO');
    expect(message).toContain('bad-profile.yaml:5:10 at profile');
    expect(message).toMatch(/bad\.yaml:3:18 at mismatchStatus\[0\]/);
  });

  it('an unknown built-in name is still refused, naming the files too', async () => {
    const path = join(folder, 'scenarios', 'unknown.yaml');
    await writeFile(path, scenarioText('paypal'));
    const { message } = await failure(path);
    expect(message).toContain("at profile: unknown profile 'paypal'");
    expect(message).toContain('or a profile file');
  });

  it('a scenario module resolves its profile file relative to the module', async () => {
    const path = join(folder, 'scenarios', 'orders.scenario.ts');
    await writeFile(
      path,
      `import { defineScenario } from ${JSON.stringify(join(PACKAGE_ROOT, 'src', 'scenario', 'define.ts'))};
export default defineScenario({
  name: 'module with a profile file',
  target: { baseUrl: 'http://127.0.0.1:8080', path: '/orders' },
  payload: { template: { sku: 'A' } },
  effects: { http: { url: '/orders?key={{key}}', count: '$.count' } },
  profile: '../profiles/acme.yaml',
  patterns: [{ kind: 'sequential-duplicates' }],
});
`,
    );
    const [loaded] = await loadScenarioFile(path);
    expect(loaded?.profileFile?.name).toBe('acme');
    expect(
      loaded === undefined ? undefined : resolveProfile(loaded, undefined).mismatchStatus,
    ).toEqual([418]);
  });

  it('a scenario that names a profile file but was not loaded from it is refused clearly', () => {
    const loaded = { file: 'x.yaml', scenario: { profile: './acme.yaml', overrides: {} } };
    expect(() => resolveProfile(loaded as unknown as LoadedScenario, undefined)).toThrow(
      /the profile file '\.\/acme\.yaml' the scenario names was not loaded/,
    );
  });
});
