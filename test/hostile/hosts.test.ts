import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startRecordingTarget, type RecordingTarget } from '../support/recording-target.js';

/**
 * Hosts the run would touch besides the target: every one is checked before any traffic,
 * and a name counts as loopback only if it resolves there. The refusals are preflight, so
 * these tests send nothing beyond loopback: 10.255.255.1 is never connected to.
 */
const PRIVATE = '10.255.255.1';

/** A name this machine does not resolve: trusted by its spelling before, refused now. */
const UNRESOLVED = 'idemproof-hostile.localhost';

function scenario(targetUrl: string, effects: string): string {
  return `name: hosts
target:
  baseUrl: ${targetUrl}
  path: /things
payload:
  template: { amount: 1 }
effects: ${effects}
patterns:
  - kind: sequential-duplicates
    count: 2
`;
}

describe('hostile: every host is checked before any traffic', () => {
  let folder: string;
  let target: RecordingTarget;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-hostile-hosts-'));
    target = await startRecordingTarget();
  });
  afterAll(async () => {
    await target.close();
    await rm(folder, { recursive: true, force: true });
  });

  async function run(
    name: string,
    text: string,
    args: string[] = [],
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number | null; stderr: string; reports: string[] }> {
    const file = await written(name, text);
    const reportDir = join(folder, `reports-${name}`);
    const before = target.arrivals.length;
    const result = await runCli(['run', file, '--report-dir', reportDir, ...args], {
      TOXIPROXY_URL: inject('toxiproxyUrl'),
      ...env,
    });
    // Refused before any traffic: the (loopback) target never heard from it.
    expect(target.arrivals.length - before).toBe(0);
    const reports = await readdir(reportDir).catch(() => []);
    return { code: result.code, stderr: result.stderr, reports };
  }

  it('refuses an SQL probe on a private address (URL host, ?host=, or from ${ENV}) with exit 2', async () => {
    const cases: [string, string, NodeJS.ProcessEnv][] = [
      ['sql-url', `postgres://u:pw_hosts_1@${PRIVATE}:5432/db`, {}],
      ['sql-query-host', `postgres://u:pw_hosts_1@127.0.0.1:5432/db?host=${PRIVATE}`, {}],
      [
        'sql-env',
        '${IDEMPROOF_HOSTILE_DB}',
        { IDEMPROOF_HOSTILE_DB: `postgres://u:pw_hosts_1@${PRIVATE}/db` },
      ],
      ['sql-unresolved', `postgres://u:pw_hosts_1@${UNRESOLVED}/db`, {}],
    ];
    for (const [name, url, env] of cases) {
      const effects = `{ sql: { url: '${url}', query: 'select 0' } }`;
      const { code, stderr, reports } = await run(name, scenario(target.url, effects), [], env);
      expect(code, `${name}: ${stderr}`).toBe(2);
      expect(stderr).toContain(`${name}.yaml`);
      expect(stderr).toContain('effect probe (SQL)');
      expect(stderr).toContain('--allow-host');
      expect(stderr).not.toContain('pw_hosts_1');
      // Nothing started: no run folder.
      expect(reports).toEqual([]);
    }
  });

  it('allows an SQL probe on a unix socket (local by construction) past the host check', async () => {
    const effects = `{ sql: { url: 'postgres://u@%2Ftmp%2Fno-such-socket-dir/db', query: 'select 0' } }`;
    const { code, stderr } = await runCli(
      [
        'run',
        await written('sql-socket', scenario(target.url, effects)),
        '--report-dir',
        join(folder, 'r-socket'),
      ],
      { TOXIPROXY_URL: inject('toxiproxyUrl') },
    );
    // Past the host check: it fails later, on the missing socket (exit 3), not as a usage error.
    expect(code, stderr).not.toBe(2);
    expect(stderr).not.toContain('outside loopback');
  });

  it('refuses a Toxiproxy server outside loopback, by option or TOXIPROXY_URL', async () => {
    const text = scenario(target.url, `{ http: { url: '/things?key={{key}}', count: $.count } }`);
    const byOption = await run('toxi-option', text, ['--toxiproxy', `http://${PRIVATE}:8474`]);
    expect(byOption.code, byOption.stderr).toBe(2);
    expect(byOption.stderr).toMatch(
      /--toxiproxy: the Toxiproxy server http:\/\/10\.255\.255\.1:8474 is outside loopback/,
    );
    const byEnv = await run('toxi-env', text, [], {
      TOXIPROXY_URL: `http://admin:toxi_pw_22@${UNRESOLVED}:8474`,
    });
    expect(byEnv.code, byEnv.stderr).toBe(2);
    expect(byEnv.stderr).toContain('TOXIPROXY_URL');
    expect(byEnv.stderr).not.toContain('toxi_pw_22');
    // Named with --allow-host, it is the user's choice (and a lookup failure is not ours).
    const allowed = await run('toxi-allowed', text, [
      '--toxiproxy',
      `http://${UNRESOLVED}:8474`,
      '--allow-host',
      UNRESOLVED,
    ]);
    expect(allowed.code).not.toBe(2);
  });

  it('trusts *.localhost only when it resolves to loopback', async () => {
    const port = new URL(target.url).port;
    const text = scenario(
      `http://${UNRESOLVED}:${port}`,
      `{ http: { url: '/things?key={{key}}', count: $.count } }`,
    );
    const { code, stderr } = await run('dot-localhost', text);
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(`the target http://${UNRESOLVED}:${port} does not resolve`);
    // localhost itself resolves to loopback here, and is used as before.
    const local = await run(
      'localhost',
      scenario(
        `http://localhost:${port}`,
        `{ sql: { url: 'postgres://u@${PRIVATE}/db', query: 'select 0' } }`,
      ),
    );
    expect(local.stderr).toContain(`effect probe (SQL)`);
    expect(local.stderr).not.toContain('the target');
  });

  async function written(name: string, text: string): Promise<string> {
    const file = join(folder, `${name}.yaml`);
    await writeFile(file, text);
    return file;
  }
});
