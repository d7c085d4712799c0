import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CERTIFICATE_HTML,
  CERTIFICATE_JSON,
  type Certificate,
} from '../../../src/certify/certify.js';
import type { RequirementResult } from '../../../src/certify/requirements.js';
import { loadProfileFile } from '../../../src/scenario/profile-file.js';
import { runCli } from '../../support/cli.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

const byId = (part: { requirements: readonly RequirementResult[] }, id: string) =>
  part.requirements.find((requirement) => requirement.id === id);

const violatedIds = (part: { requirements: readonly RequirementResult[] }): string[] =>
  part.requirements
    .filter((requirement) => requirement.verdict === 'violated')
    .map((requirement) => requirement.id);

/**
 * A certificate per built-in profile against the demo target, in two parts: conformance to the
 * profile's choices, and defects no profile excuses. The correct demo has no defect under any
 * profile; where it chose differently from a profile, --suggest-profile writes the profile it
 * follows, and certifying against that file gives the certificate.
 */
describe('idemproof certify: two parts per built-in profile', () => {
  let demo: RunningDemo;
  let flawed: RunningDemo;
  let folder: string;
  beforeAll(async () => {
    [demo, flawed] = await Promise.all([
      startDemo({ processingMs: 20, keyTtlMs: 600_000 }),
      startDemo({ processingMs: 20, keyTtlMs: 600_000, flaw: 'check-then-insert' }),
    ]);
    folder = await mkdtemp(join(tmpdir(), 'idemproof-certify-'));
  });
  afterAll(async () => {
    await Promise.all([demo.stop(), flawed.stop()]);
    await rm(folder, { recursive: true, force: true });
  });

  async function certifyCli(
    profile: string,
    options: { target?: string; label?: string; extra?: string[] } = {},
  ): Promise<{ code: number | null; stdout: string; certificate: Certificate; html: string }> {
    const reports = join(folder, options.label ?? profile.replace(/\W/g, '_'));
    const run = await runCli(
      [
        'certify',
        '--profile',
        profile,
        '--target',
        options.target ?? demo.target.url,
        '--report-dir',
        reports,
        '--seed',
        '3',
        ...(options.extra ?? []),
      ],
      { TOXIPROXY_URL: inject('toxiproxyUrl') },
    );
    const dir = /certificate: (\S+)certificate\.html/.exec(run.stdout)?.[1] ?? '';
    expect(dir, run.stderr).not.toBe('');
    const certificate = JSON.parse(
      await readFile(join(dir, CERTIFICATE_JSON), 'utf8'),
    ) as Certificate;
    const html = await readFile(join(dir, CERTIFICATE_HTML), 'utf8');
    return { code: run.code, stdout: run.stdout, certificate, html };
  }

  function expectTwoParts(certificate: Certificate, stdout: string, html: string): void {
    expect(certificate.schemaVersion).toBe(2);
    expect(certificate.conformance.requirements.every((r) => r.part === 'profile')).toBe(true);
    expect(certificate.defects.requirements.every((r) => r.part === 'defect')).toBe(true);
    expect(certificate.defects.requirements.map((r) => r.id)).toEqual(
      expect.arrayContaining(['D1', 'D2', 'D3', 'D4', 'D5']),
    );
    const heading = `Conforms to profile ${certificate.profile.name} (sha256 ${certificate.profile.sha256.slice(0, 12)}…)`;
    for (const page of [stdout, html]) {
      expect(page).toContain(heading);
      expect(page).toContain('Defects (no profile excuses them)');
    }
    // Each part in its own section of the page, the choices before the defects.
    const conformanceAt = html.indexOf('id="conformance"');
    const defectsAt = html.indexOf('id="defects"');
    expect(conformanceAt).toBeGreaterThan(0);
    expect(defectsAt).toBeGreaterThan(conformanceAt);
    expect(html).not.toMatch(/<script/i);
  }

  it('default: the correct demo conforms and has no defect: certified', async () => {
    const { code, certificate, html, stdout } = await certifyCli('default');
    expectTwoParts(certificate, stdout, html);
    expect(code).toBe(0);
    expect(certificate.verdict).toBe('certified');
    expect(certificate.conformance.verdict).toBe('conforms');
    expect(certificate.defects.verdict).toBe('none');
    expect(certificate.profile).toMatchObject({
      name: 'default',
      version: 'idemproof default profile 1',
    });
    expect(certificate.target).toBe(demo.target.url);
    expect(Date.parse(certificate.date)).not.toBeNaN();
    expect(certificate.tool.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const requirement of [
      ...certificate.conformance.requirements,
      ...certificate.defects.requirements,
    ]) {
      if (requirement.exercised) expect(requirement.verdict, requirement.id).toBe('holds');
      else expect(requirement.optional, requirement.id).toBe(true);
    }
    // The default profile asks for Retry-After on in-flight refusals: P5 is on the certificate.
    expect(byId(certificate.conformance, 'P5')?.verdict).toBe('holds');
    expect(stdout).toContain('✓ D1 holds');
    expect(html).toMatch(
      /http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/,
    );
    expect(html).toContain('CERTIFIED');
  });

  it('ietf: the demo diverges in its choices only (409 where the draft says 422); the suggested profile fits and certifies', async () => {
    const suggested = join(folder, 'demo-follows.yaml');
    const { code, certificate, stdout, html } = await certifyCli('ietf', {
      extra: ['--suggest-profile', suggested],
    });
    expectTwoParts(certificate, stdout, html);
    expect(code).toBe(1);
    expect(certificate.verdict).toBe('not certified');
    expect(certificate.conformance.verdict).toBe('diverges');
    expect(certificate.defects.verdict).toBe('none');
    const p1 = byId(certificate.conformance, 'P1');
    expect(p1?.verdict).toBe('violated');
    expect(p1?.evidence).toContain('422');
    expect(certificate.summary).toContain('only in its choices');

    const suggestion = certificate.suggestedProfile;
    expect(suggestion?.file).toBe(suggested);
    expect(suggestion?.fits).toBe(true);
    expect(suggestion?.changes.join('\n')).toContain('mismatchStatus: [409]');
    // 409 and no problem details: what the default profile says, so it extends that one.
    expect(suggestion?.extends).toBe('default');
    const profile = await loadProfileFile(suggested);
    expect(profile.mismatchStatus).toEqual([409]);
    expect(profile.name).toBe('ietf-suggested');
    expect(stdout).toContain(`suggested profile: ${suggested}`);

    // Certified against the profile it was seen to follow, on a run of its own.
    const again = await certifyCli(suggested, { label: 'suggested' });
    expect(again.certificate.verdict).toBe('certified');
    expect(again.certificate.profile.name).toBe('ietf-suggested');
    expect(again.code).toBe(0);
  });

  it('stripe: the demo diverges in several choices (409 not 400, keys required, no Stripe codes) and still has no defect', async () => {
    const { code, certificate, stdout, html } = await certifyCli('stripe', {
      extra: ['--suggest-profile'],
    });
    expectTwoParts(certificate, stdout, html);
    expect(code).toBe(1);
    expect(certificate.conformance.verdict).toBe('diverges');
    expect(violatedIds(certificate.conformance)).toEqual(['P1', 'P3', 'P5']);
    // The demo marks its replays as Stripe does.
    expect(byId(certificate.conformance, 'P4')?.verdict).toBe('holds');
    expect(certificate.defects.verdict).toBe('none');
    const suggestion = certificate.suggestedProfile;
    expect(suggestion?.file).toBe(join(certificate.reportDir, 'suggested-profile.yaml'));
    expect(suggestion?.fits).toBe(true);
    // Stripe's marker and 5xx policy stay: the suggestion extends stripe. The demo scenario's
    // own retention override is part of what the run judged by, so it is in the file too.
    expect(suggestion?.extends).toBe('stripe');
    expect(Object.keys(suggestion?.fields ?? {}).sort()).toEqual([
      'mismatchStatus',
      'missingKey',
      'refusals',
      'retentionMs',
    ]);
    expect(suggestion?.fields.refusals).toMatchObject({ codes: null, mismatchBody: [] });
  });

  it('a double-charging target has defects under every profile, whatever its choices', async () => {
    for (const profile of ['default', 'ietf']) {
      const { code, certificate, stdout, html } = await certifyCli(profile, {
        target: flawed.target.url,
        label: `flawed-${profile}`,
      });
      expectTwoParts(certificate, stdout, html);
      expect(code).toBe(1);
      expect(certificate.verdict).toBe('not certified');
      expect(certificate.defects.verdict).toBe('found');
      expect(violatedIds(certificate.defects)).toEqual(expect.arrayContaining(['D1', 'D4']));
      expect(byId(certificate.defects, 'D1')?.anomalies[0]?.kind).toBe('duplicate-effect');
    }
  });
});
