import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CERTIFICATE_HTML, certify, type Certificate } from '../../../src/certify/certify.js';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import type { RunResult } from '../../../src/run/result.js';
import { rebuildReports } from '../../../src/run/rebuild.js';
import { RUN_FILE, type RunFile } from '../../../src/run/run-file.js';
import { runSuite } from '../../../src/run/run.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';
import {
  startWaitAndReplayTarget,
  WAIT_AND_REPLAY_SCENARIO,
  type WaitAndReplayTarget,
} from '../../support/wait-and-replay-target.js';

const PROFILES_DIR = join(PACKAGE_ROOT, 'profiles');

/** The scenario of the wait-and-replay target (test/support), with `overrides` added. */
function shipments(overrides = ''): string {
  return `name: shipments
${WAIT_AND_REPLAY_SCENARIO}faults: { slowMs: 400 }
${overrides}
patterns:
  - kind: sequential-duplicates
`;
}

/**
 * Profile files (profiles/*.yaml) and every scenario override, certified against targets
 * that follow them: a certificate says which profile it holds the target to, by its file and
 * SHA-256, and lists what the scenario changed.
 */
describe('certify with profile files and scenario overrides', () => {
  let folder: string;
  let demo: RunningDemo;
  const targets: WaitAndReplayTarget[] = [];
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-profile-files-'));
    demo = await startDemo({ processingMs: 20, keyTtlMs: 600_000 });
  });
  afterAll(async () => {
    await demo.stop();
    await Promise.all(targets.map((target) => target.close()));
    await rm(folder, { recursive: true, force: true });
  });

  async function target(options: Parameters<typeof startWaitAndReplayTarget>[0]): Promise<string> {
    const started = await startWaitAndReplayTarget(options);
    targets.push(started);
    return started.url;
  }

  async function certifyWith(
    profile: string,
    url: string,
    scenario: string,
  ): Promise<{ certificate: Certificate; result: RunResult; errors: string[] }> {
    const errors: string[] = [];
    const { certificate, outcome } = await certify({
      profile,
      target: url,
      scenario,
      seed: 7,
      reportDir: join(folder, 'reports'),
      reporters: ['json'],
      toxiproxyUrl: inject('toxiproxyUrl'),
      out: () => undefined,
      err: (line) => errors.push(line),
      interactive: false,
    });
    // Every certificate puts the profile's choices and the defects in sections of their own.
    const html = await readFile(join(certificate.reportDir, CERTIFICATE_HTML), 'utf8');
    const conformanceAt = html.indexOf('<section id="conformance">');
    expect(conformanceAt).toBeGreaterThan(0);
    expect(html.indexOf('<section id="defects">')).toBeGreaterThan(conformanceAt);
    expect(html).toContain(`Conforms to profile ${certificate.profile.name} (sha256 `);
    return { certificate, result: outcome.result, errors };
  }

  const requirement = (certificate: Certificate, id: string) =>
    [...certificate.conformance.requirements, ...certificate.defects.requirements].find(
      (candidate) => candidate.id === id,
    );

  function expectCertified(certificate: Certificate): void {
    const failing = [...certificate.conformance.requirements, ...certificate.defects.requirements]
      .filter((requirement) => requirement.verdict !== 'holds' && !requirement.optional)
      .map((requirement) => `${requirement.id} ${requirement.verdict}: ${requirement.evidence}`);
    expect(failing).toEqual([]);
    expect(certificate.conformance.verdict).toBe('conforms');
    expect(certificate.defects.verdict).toBe('none');
    expect(certificate.verdict).toBe('certified');
  }

  it("certifies the demo's Stripe-style charges against profiles/stripe.yaml", async () => {
    const { certificate, result } = await certifyWith(
      join(PROFILES_DIR, 'stripe.yaml'),
      demo.target.url,
      join(PACKAGE_ROOT, 'scenarios', 'demo', 'charges.yaml'),
    );
    expectCertified(certificate);
    expect(certificate.profile).toMatchObject({
      name: 'stripe-v1',
      version: 'profile file',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
    });
    expect(certificate.profile.source).toMatch(/profiles[/\\]stripe\.yaml$/);
    expect(requirement(certificate, 'P4')?.text).toContain('idempotent-replayed: true');
    expect(result.scenarios[0]?.profile).toMatchObject({
      name: 'stripe-v1',
      sha256: certificate.profile.sha256,
    });
  });

  it('certifies a target that follows the IETF draft against profiles/ietf.yaml', async () => {
    const scenario = join(folder, 'shipments-ietf.yaml');
    await writeFile(scenario, shipments());
    const url = await target({ requireKey: true, problemDetails: true });
    const { certificate } = await certifyWith(join(PROFILES_DIR, 'ietf.yaml'), url, scenario);
    expectCertified(certificate);
    expect(certificate.profile.name).toBe('ietf-draft-07');
    expect(requirement(certificate, 'P3')?.text).toContain('refused with 400');
    // The same target, keys optional: the draft's 400 for a missing key is violated.
    const lax = await target({ problemDetails: true });
    const refused = await certifyWith(join(PROFILES_DIR, 'ietf.yaml'), lax, scenario);
    expect(refused.certificate.verdict).toBe('not certified');
    // Optional keys are a choice, not a defect: the draft's profile part diverges, no defect.
    expect(refused.certificate.conformance.verdict).toBe('diverges');
    expect(
      refused.certificate.defects.requirements
        .filter((requirement) => requirement.verdict === 'violated')
        .map((requirement) => requirement.evidence),
    ).toEqual([]);
    expect(requirement(refused.certificate, 'P3')?.verdict).toBe('violated');
  });

  it('certifies a Powertools-style target (422, keys optional, no marker) against profiles/powertools.yaml', async () => {
    const scenario = join(folder, 'shipments-powertools.yaml');
    await writeFile(scenario, shipments());
    const url = await target({});
    const { certificate } = await certifyWith(join(PROFILES_DIR, 'powertools.yaml'), url, scenario);
    expectCertified(certificate);
    expect(certificate.profile.name).toBe('powertools-style');
    expect(requirement(certificate, 'P3')?.text).toContain('keys are optional');
  });

  it('certifies 417 on a mismatch and optional keys through scenario overrides, and lists them', async () => {
    const scenario = join(folder, 'shipments-417.yaml');
    await writeFile(
      scenario,
      shipments(`overrides:
  mismatchStatus: [417]
  missingKey: { expect: processed }`),
    );
    const url = await target({ mismatchStatus: 417, problemDetails: true });
    const { certificate, result, errors } = await certifyWith('ietf', url, scenario);
    expectCertified(certificate);
    expect(requirement(certificate, 'P1')?.text).toContain('refused with 417');
    expect(certificate.adjustments).toEqual([
      'mismatchStatus: [417]',
      'missingKey: {"expect":"processed"}',
    ]);
    expect(result.scenarios[0]?.profile.overridden).toEqual(['mismatchStatus', 'missingKey']);
    expect(errors.join('\n')).toContain(
      "overrides mismatchStatus, missingKey of profile 'ietf' (built-in): the scenario's values win",
    );
  });

  it('run --profile: the scenario overrides win, a notice names them, and report rebuilds with the file', async () => {
    const scenario = join(folder, 'shipments-run.yaml');
    await writeFile(scenario, shipments('overrides: { mismatchStatus: [422] }'));
    const profile = join(folder, 'acme.yaml');
    await writeFile(profile, 'name: acme\nextends: stripe\nmissingKey: { expect: processed }\n');
    const url = await target({});
    const errors: string[] = [];
    const { result } = await runSuite({
      paths: [scenario],
      target: url,
      profile,
      seed: 5,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir: join(folder, 'run-reports'),
      reporters: ['json', 'html'],
      out: () => undefined,
      err: (line) => errors.push(line),
      interactive: false,
    });
    expect(errors).toContain(
      `idemproof: scenario 'shipments' overrides mismatchStatus of profile 'acme' (${relative(process.cwd(), profile)}): the scenario's values win`,
    );
    const judged = result.scenarios[0]?.profile;
    expect(judged).toMatchObject({
      name: 'acme',
      mismatchStatus: [422],
      replayHeader: { name: 'idempotent-replayed' },
      overridden: ['mismatchStatus'],
    });
    const json = JSON.parse(await readFile(join(result.reportDir, 'results.json'), 'utf8')) as {
      scenarios: { profile: { source: string; sha256: string; overridden: string[] } }[];
    };
    expect(json.scenarios[0]?.profile).toMatchObject({
      source: expect.stringMatching(/acme\.yaml$/) as string,
      sha256: judged?.sha256,
      overridden: ['mismatchStatus'],
    });
    const html = await readFile(join(result.reportDir, 'index.html'), 'utf8');
    expect(html).toContain('the scenario&#39;s overrides replace mismatchStatus');
    // The profile file changes (or goes away): the run folder still rebuilds with the one used.
    const run = JSON.parse(await readFile(join(result.reportDir, RUN_FILE), 'utf8')) as RunFile;
    expect(run.resolvedProfile).toMatchObject({ name: 'acme', sha256: judged?.sha256 });
    await rm(profile);
    const rebuilt = await rebuildReports({
      reportDir: result.reportDir,
      reporters: ['json'],
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    expect(rebuilt.result.scenarios[0]?.profile).toEqual(judged);
    expect(rebuilt.result.valid).toBe(result.valid);
  });
});
