import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import { runCli } from '../../support/cli.js';

const SCENARIOS = join(PACKAGE_ROOT, 'scenarios');

describe('idemproof validate and init, the built CLI', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'idemproof-cli-validate-init-'));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('validates the shipped demo and template scenarios: exit 0, one ✓ line a file', async () => {
    const { code, stdout, stderr } = await runCli([
      'validate',
      join(SCENARIOS, 'demo'),
      join(SCENARIOS, 'template'),
      join(SCENARIOS, 'consumers'),
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const file of [
      'kafka.yaml',
      'rabbitmq.yaml',
      'charges.yaml',
      'dependency-chaos.yaml',
      'flaky-downstream.yaml',
      'orders.yaml',
      'payments-webhook.yaml',
      'payments.yaml',
      'my-api.yaml',
    ]) {
      expect(stdout).toMatch(
        new RegExp(
          `^✓ \\S*${file.replace('.', '\\.')} \\(\\d+ patterns, \\d+ attempts planned\\)$`,
          'm',
        ),
      );
    }
    expect(stdout).toMatch(/^9 files valid$/m);
  });

  it('writes a starter with init that validate accepts, and refuses to overwrite it', async () => {
    const out = join(folder, 'idemproof.yaml');
    const init = await runCli([
      'init',
      '--target',
      'http://staging.example.com:8080',
      '--out',
      out,
    ]);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`wrote ${out}`);

    const validate = await runCli(['validate', out]);
    expect(validate.stdout).toMatch(
      /^✓ \S*idemproof\.yaml \(\d+ patterns, \d+ attempts planned\)$/m,
    );
    expect(validate.code).toBe(0);

    const again = await runCli(['init', '--target', 'http://127.0.0.1:8080', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force to overwrite it/);
  });

  it('exits 2 and names every bad file, with --json too', async () => {
    const bad = join(folder, 'bad.yaml');
    writeFileSync(bad, 'name: bad\npatterns: nope\n');
    const text = await runCli(['validate', join(SCENARIOS, 'template'), bad]);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^✓ \S*my-api\.yaml /m);
    expect(text.stdout).toMatch(/^✗ \S*bad\.yaml$/m);

    const json = await runCli(['validate', '--json', join(SCENARIOS, 'template'), bad]);
    expect(json.code).toBe(2);
    const results = JSON.parse(json.stdout) as { file: string; valid: boolean }[];
    expect(results.map(({ valid }) => valid)).toEqual([true, false]);
    expect(results[1]?.file).toMatch(/bad\.yaml$/);
  });

  it('validates a profile file with --profile: alone, with scenarios, and a bad one', async () => {
    const shipped = join(PACKAGE_ROOT, 'profiles', 'powertools.yaml');
    const alone = await runCli(['validate', '--profile', shipped]);
    expect(alone.stderr).toBe('');
    expect(alone.code).toBe(0);
    expect(alone.stdout).toMatch(/^✓ \S*powertools\.yaml$/m);
    expect(alone.stdout).toMatch(
      /profile 'powertools-style' \(\S*powertools\.yaml\): mismatch 422, in flight 409, missing key processed, replay header none, sha256 [0-9a-f]{64}$/m,
    );

    const json = await runCli([
      'validate',
      '--json',
      '--profile',
      shipped,
      join(SCENARIOS, 'demo'),
    ]);
    expect(json.code).toBe(0);
    const results = JSON.parse(json.stdout) as {
      file: string;
      valid: boolean;
      profile?: { name: string; sha256: string };
    }[];
    expect(results[0]?.profile?.name).toBe('powertools-style');
    expect(results[0]?.profile?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(results.slice(1).map(({ file }) => file.split(/[/\\]/).at(-1))).toEqual([
      'charges.yaml',
      'dependency-chaos.yaml',
      'flaky-downstream.yaml',
      'orders.yaml',
      'payments-webhook.yaml',
      'payments.yaml',
    ]);

    const bad = join(folder, 'bad-profile.yaml');
    writeFileSync(bad, 'name: bad\nextends: stripe\nmismatchStatus: [600]\n');
    const refused = await runCli(['validate', '--profile', bad, join(SCENARIOS, 'demo')]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/^✗ \S*bad-profile\.yaml$/m);
    expect(refused.stdout).toMatch(/bad-profile\.yaml:3:18 at mismatchStatus\[0\]/);
    expect(refused.stdout).toMatch(/^1 of 1 file invalid$/m);

    const nothing = await runCli(['validate']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('name scenario files or folders, or a profile');
  });
});
