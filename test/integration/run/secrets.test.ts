import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RUN_FOLDER_FILES, runCli } from '../../support/cli.js';
import { leaks, runOutputs } from '../../support/leaks.js';
import { startRecordingTarget, type RecordingTarget } from '../../support/recording-target.js';

/** Every secret of the run: sent by idemproof, or set by the target in what it answers. */
const SECRETS = {
  token: 'tok_live_4f8a9b2c7d1e',
  apiKey: 'key_live_LITERAL123456',
  cookie: 'cookieSECRET987654',
  partner: 'partnerSECRET555444',
  card: '4242424242424242',
  serverCookie: 'srv_sid_SECRET31337',
  debugHeader: 'dbg_SECRET_8675309',
  session: 'sess_SECRET_24601xyz',
} as const;

const SCENARIO = `name: secrets everywhere
target:
  baseUrl: http://127.0.0.1:1
  path: /things
  headers:
    Authorization: 'Bearer \${IDEMPROOF_TEST_TOKEN}'
    X-Api-Key: ${SECRETS.apiKey}
    Cookie: 'session=${SECRETS.cookie}; theme=dark'
    X-Partner-Secret: ${SECRETS.partner}
redact:
  headers: [X-Partner-Secret, X-Debug-Token]
  jsonFields: [card_number, session]
payload:
  template: { amount: 100, card_number: '${SECRETS.card}', note: 'n-{{marker}}' }
  different: { amount: 200 }
effects: { http: { url: '/things?key={{key}}', count: $.count } }
patterns:
  - kind: sequential-duplicates
    count: 3
    lanes: [clean, lost-response]
  - kind: payload-mismatch
    concurrent: 2
  - kind: concurrent-burst
    count: 3
`;

describe('secrets stay out of every output', () => {
  let folder: string;
  let target: RecordingTarget;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-secrets-'));
    await writeFile(join(folder, 'secrets.yaml'), SCENARIO);
    // A careless target: it echoes every request header and body back, sets a session
    // cookie, and answers a debug header and a session field, all secrets.
    target = await startRecordingTarget(({ headers, body, n }) => ({
      headers: {
        'set-cookie': `sid=${SECRETS.serverCookie}; HttpOnly`,
        'x-debug-token': SECRETS.debugHeader,
      },
      body: JSON.stringify({
        id: `thing_${n}`,
        session: SECRETS.session,
        echoed_headers: headers,
        echoed_body: body,
      }),
    }));
  });
  afterAll(async () => {
    await target.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('a run against a target that echoes them: no secret in any file or on the terminal', async () => {
    const reports = join(folder, 'reports');
    const { stdout, stderr, code } = await runCli(
      ['run', join(folder, 'secrets.yaml'), '--target', target.url, '--report-dir', reports],
      { TOXIPROXY_URL: inject('toxiproxyUrl'), IDEMPROOF_TEST_TOKEN: SECRETS.token },
    );
    // The run happened and the target got the real token.
    expect([0, 1], stderr).toContain(code);
    expect(target.authorizations.length).toBeGreaterThan(5);
    expect(target.authorizations.every((value) => value === `Bearer ${SECRETS.token}`)).toBe(true);

    const outputs = await runOutputs(reports, { stdout, stderr });
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining([...RUN_FOLDER_FILES]));
    expect(leaks(outputs, SECRETS)).toEqual([]);
    // Redacted, not dropped: the places where they were say so.
    expect(outputs['history.jsonl']).toContain('[redacted]');
    expect(outputs['index.html']).toContain('[redacted]');
    expect(outputs['history.jsonl']).toContain('"x-debug-token","[redacted]"');
  });
});
