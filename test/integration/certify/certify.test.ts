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
import { runCli } from '../../support/cli.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

describe('idemproof certify', () => {
  let demo: RunningDemo;
  let folder: string;
  beforeAll(async () => {
    demo = await startDemo({ processingMs: 20, keyTtlMs: 600_000 });
    folder = await mkdtemp(join(tmpdir(), 'idemproof-certify-'));
  });
  afterAll(async () => {
    await demo.stop();
    await rm(folder, { recursive: true, force: true });
  });

  async function certifyCli(
    profile: string,
  ): Promise<{ code: number | null; stdout: string; certificate: Certificate; html: string }> {
    const reports = join(folder, profile);
    const run = await runCli(
      [
        'certify',
        '--profile',
        profile,
        '--target',
        demo.target.url,
        '--report-dir',
        reports,
        '--seed',
        '3',
      ],
      { TOXIPROXY_URL: inject('toxiproxyUrl') },
    );
    const dir = /certificate: (\S+)certificate\.html/.exec(run.stdout)?.[1] ?? '';
    const certificate = JSON.parse(
      await readFile(join(dir, CERTIFICATE_JSON), 'utf8'),
    ) as Certificate;
    const html = await readFile(join(dir, CERTIFICATE_HTML), 'utf8');
    return { code: run.code, stdout: run.stdout, certificate, html };
  }

  it('certifies the correct demo against the default profile: every exercised requirement holds', async () => {
    const { code, certificate, html, stdout } = await certifyCli('default');
    expect(code).toBe(0);
    expect(certificate.verdict).toBe('certified');
    expect(certificate.profile).toMatchObject({
      name: 'default',
      version: 'idemproof default profile 1',
    });
    expect(certificate.target).toBe(demo.target.url);
    expect(Date.parse(certificate.date)).not.toBeNaN();
    expect(certificate.tool.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const requirement of certificate.requirements) {
      if (requirement.exercised) expect(requirement.verdict, requirement.id).toBe('holds');
      else expect(requirement.optional, requirement.id).toBe(true);
    }
    expect(certificate.requirements.filter((r) => r.exercised).length).toBeGreaterThanOrEqual(7);
    expect(stdout).toContain('✓ R1 holds');
    expect(html).toMatch(
      /http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/,
    );
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('CERTIFIED');
  });

  it('refuses the ietf certificate to the demo, which answers 409 where the draft says 422', async () => {
    const { code, certificate } = await certifyCli('ietf');
    expect(code).toBe(1);
    expect(certificate.verdict).toBe('not certified');
    const r4 = certificate.requirements.find((requirement) => requirement.id === 'R4');
    expect(r4?.verdict).toBe('violated');
    expect(r4?.evidence).toContain('422');
    expect(r4?.anomalies.length).toBeGreaterThan(0);
  });
});
