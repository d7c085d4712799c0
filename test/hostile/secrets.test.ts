import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RUN_FOLDER_FILES, runCli } from '../support/cli.js';
import { leaks, runOutputs } from '../support/leaks.js';
import { startRecordingTarget, type RecordingTarget } from '../support/recording-target.js';

/**
 * Secrets that reach idemproof by every way but a header it already knows: a password in
 * the --target URL, a password in an SQL probe's connection string, a header whose value
 * comes from ${ENV} without being listed under redact.headers, and a credential in a query
 * parameter. None may appear in any file of the run folder or on the terminal.
 */
const SECRETS = {
  targetPassword: 'tgtPW_hostile_7781',
  envHeader: 'envHDR_hostile_4410',
  queryToken: 'qtok_hostile_9052',
} as const;

/** The database URL with a planted password (the embedded server trusts, so it is ignored). */
function databaseUrlWithPassword(): { url: string; password: string } {
  const url = new URL(inject('databaseUrl'));
  if (url.password === '') url.password = 'sqlPW_hostile_3317';
  return { url: url.toString(), password: decodeURIComponent(url.password) };
}

describe('hostile: secrets in URLs and the environment stay out of every output', () => {
  let folder: string;
  let target: RecordingTarget;
  const database = databaseUrlWithPassword();
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-hostile-secrets-'));
    await writeFile(
      join(folder, 'leaky.yaml'),
      `name: leaky
target:
  baseUrl: http://127.0.0.1:1
  path: /things?token=${SECRETS.queryToken}
  headers:
    X-Custom-Auth: '\${IDEMPROOF_HOSTILE_SECRET}'
payload:
  template: { amount: 100, note: 'n-{{marker}}' }
effects:
  sql:
    url: '${database.url}'
    query: 'select count(*) from (select $1::text) as k where false'
patterns:
  - kind: sequential-duplicates
    count: 2
    lanes: [clean, lost-response]
`,
    );
    // A careless target: it echoes every request header back.
    target = await startRecordingTarget(({ headers, n }) => ({
      headers: {},
      body: JSON.stringify({ id: `thing_${n}`, echoed_headers: headers }),
    }));
  });
  afterAll(async () => {
    await target.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('no password, env value or credential query value in any file or on the terminal', async () => {
    const reports = join(folder, 'reports');
    const withPassword = target.url.replace(
      'http://',
      `http://idemproof:${SECRETS.targetPassword}@`,
    );
    const { stdout, stderr, code } = await runCli(
      ['run', join(folder, 'leaky.yaml'), '--target', withPassword, '--report-dir', reports],
      { TOXIPROXY_URL: inject('toxiproxyUrl'), IDEMPROOF_HOSTILE_SECRET: SECRETS.envHeader },
    );
    expect([0, 1], stderr).toContain(code);
    // The run reached the target (the secrets were really in play).
    expect(target.arrivals.length).toBeGreaterThan(2);

    const outputs = await runOutputs(reports, { stdout, stderr });
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining([...RUN_FOLDER_FILES]));
    expect(leaks(outputs, { ...SECRETS, sqlPassword: database.password })).toEqual([]);
    // Redacted where they were, not dropped: the places still say what was there.
    expect(outputs['results.json']).toContain('http://[redacted]@127.0.0.1');
    expect(outputs['run.json']).toMatch(/postgres(ql)?:\/\/\[redacted\]@/);
    // Header names keep the case the scenario wrote; the value is redacted whatever the case.
    expect(outputs['history.jsonl']).toMatch(/"x-custom-auth","\[redacted\]"/i);
    expect(outputs['history.jsonl']).toContain('token=[redacted]');
  });
});
