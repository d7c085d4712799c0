import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, type CliResult } from '../../support/cli.js';
import { startDemo, type RunningDemo } from '../../support/demo-target.js';

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { TOXIPROXY_URL: inject('toxiproxyUrl') });
}

/** The demo refuses a mismatch with 409; this profile file wants 422. */
const WANTS_422 = `name: wants-422
extends: default
mismatchStatus: [422]
`;

const SCENARIO = (profile: string): string => `name: profile file payments
target: { baseUrl: http://127.0.0.1:1, path: /payments }
payload: { template: { amount: 100, currency: EUR, customer: 'cus_{{marker}}' } }
effects: { http: { url: '/payments?idempotency_key={{key}}', count: $.count } }
profile: ${profile}
patterns:
  - kind: payload-mismatch
    concurrent: 1
`;

interface RunJson {
  readonly scenarios: readonly {
    readonly profileFile?: { name: string; source: string; sha256: string };
  }[];
}

interface ResultsJson {
  readonly valid: boolean;
  readonly scenarios: readonly { profile: { name: string; mismatchStatus: number[] } }[];
}

async function onlyRun(reports: string): Promise<string> {
  const [runId] = await readdir(reports);
  return join(reports, runId ?? '');
}

async function json<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

describe("a scenario's profile: naming a profile file, run by the CLI", () => {
  let folder: string;
  let demo: RunningDemo;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-cli-scenario-profile-'));
    await mkdir(join(folder, 'profiles'));
    await mkdir(join(folder, 'scenarios'));
    await writeFile(join(folder, 'profiles', 'wants-422.yaml'), WANTS_422);
    await writeFile(
      join(folder, 'profiles', 'broken.yaml'),
      'name: broken\nextends: default\nmismatchStatus: 422\n',
    );
    await writeFile(
      join(folder, 'scenarios', 'payments.yaml'),
      SCENARIO('../profiles/wants-422.yaml'),
    );
    await writeFile(join(folder, 'broken-profile.yaml'), SCENARIO('./profiles/broken.yaml'));
    demo = await startDemo();
  });
  afterAll(async () => {
    await demo.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('judges by the file relative to the scenario, records it in run.json, and rebuilds from it', async () => {
    const reports = join(folder, 'reports-file');
    const result = await cli([
      'run',
      join(folder, 'scenarios', 'payments.yaml'),
      '--target',
      demo.target.url,
      '--report-dir',
      reports,
      '--seed',
      '7',
    ]);
    // The demo answers 409 where the profile file wants 422.
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('conflictOnMismatch');
    const dir = await onlyRun(reports);
    const run = await json<RunJson>(join(dir, 'run.json'));
    expect(run.scenarios[0]?.profileFile).toMatchObject({
      name: 'wants-422',
      sha256: createHash('sha256').update(WANTS_422).digest('hex'),
    });
    expect(run.scenarios[0]?.profileFile?.source).toMatch(/profiles[/\\]wants-422\.yaml$/);
    const results = await json<ResultsJson>(join(dir, 'results.json'));
    expect(results.valid).toBe(false);
    expect(results.scenarios[0]?.profile).toMatchObject({
      name: 'wants-422',
      mismatchStatus: [422],
    });

    // The file changes after the run: the rebuild judges by what the run recorded.
    await writeFile(join(folder, 'profiles', 'wants-422.yaml'), 'name: other\nextends: default\n');
    try {
      const rebuilt = await cli(['report', dir, '--reporter', 'json']);
      expect(rebuilt.code, rebuilt.stderr).toBe(1);
      const again = await json<ResultsJson>(join(dir, 'results.json'));
      expect(again.valid).toBe(false);
      expect(again.scenarios[0]?.profile).toMatchObject({
        name: 'wants-422',
        mismatchStatus: [422],
      });
    } finally {
      await writeFile(join(folder, 'profiles', 'wants-422.yaml'), WANTS_422);
    }
  });

  it('--profile on the command line wins over it, with a notice', async () => {
    const result = await cli([
      'run',
      join(folder, 'scenarios', 'payments.yaml'),
      '--profile',
      'default',
      '--target',
      demo.target.url,
      '--report-dir',
      join(folder, 'reports-flag'),
      '--reporter',
      'json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /scenario 'profile file payments' names profile 'wants-422' \(\S*wants-422\.yaml\); --profile 'default' \(built-in\) wins/,
    );
  });

  it('a bad profile file named by a scenario: exit 2 naming both files, before any traffic', async () => {
    const reports = join(folder, 'reports-broken');
    const result = await cli([
      'run',
      join(folder, 'broken-profile.yaml'),
      '--target',
      demo.target.url,
      '--report-dir',
      reports,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /broken-profile\.yaml:5:10 at profile: cannot use the profile file '\.\/profiles\/broken\.yaml'/,
    );
    expect(result.stderr).toMatch(/profiles[/\\]broken\.yaml:3:17 at mismatchStatus: /);
    await expect(readdir(reports)).rejects.toThrow();
  });
});
