import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioJsonSchema } from '../../../src/scenario/json-schema.js';
import { loadScenarioSources } from '../../../src/scenario/load.js';
import { loadTargetScenario } from '../../support/target-scenario.js';

describe('target.tls and target.http in the scenario model', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-transport-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const load = (target: string) => loadTargetScenario(folder, target);

  async function problem(target: string): Promise<string> {
    return load(target).then(
      () => 'loaded',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  }

  it('defaults to HTTP/1.1 without TLS settings', async () => {
    const [loaded] = await load('  baseUrl: https://api.example.test');
    expect(loaded?.scenario.target.http).toBe('1.1');
    expect(loaded?.scenario.target.tls).toBeUndefined();
  });

  it('reads every TLS field, insecure defaulting to false', async () => {
    const [loaded] = await load(`  baseUrl: https://localhost:8443
  http: h2
  tls: { ca: certs/ca.pem, cert: certs/client.pem, key: '\${CLIENT_KEY}', servername: api.internal }`);
    expect(loaded?.scenario.target.tls).toEqual({
      ca: 'certs/ca.pem',
      cert: 'certs/client.pem',
      key: '${CLIENT_KEY}',
      servername: 'api.internal',
      insecure: false,
    });
    expect(loaded?.scenario.target.http).toBe('h2');
  });

  it.each([
    [
      'a client certificate without its key',
      '  baseUrl: https://localhost:8443\n  tls: { cert: client.pem }',
      /:5:\d+ at target\.tls\.cert: a client certificate needs its private key: add target\.tls\.key/,
    ],
    [
      'a key without its certificate',
      '  baseUrl: https://localhost:8443\n  tls:\n    key: client-key.pem',
      /:6:\d+ at target\.tls\.key: a client key needs its certificate: add target\.tls\.cert/,
    ],
    [
      'TLS settings for an http target',
      '  baseUrl: http://127.0.0.1:8080\n  tls: { insecure: true }',
      /:5:\d+ at target\.tls: TLS settings need an https target, but target\.baseUrl is http:\/\/127\.0\.0\.1:8080/,
    ],
    [
      'h2 over http',
      '  baseUrl: http://127.0.0.1:8080\n  http: h2',
      /at target\.http: h2 is HTTP\/2 over TLS and needs an https target.*use h2c/,
    ],
    [
      'h2c over https',
      '  baseUrl: https://localhost:8443\n  http: h2c',
      /at target\.http: h2c is cleartext HTTP\/2 and needs an http target.*use h2/,
    ],
    [
      'an unknown HTTP version',
      '  baseUrl: https://localhost:8443\n  http: "3"',
      /at target\.http: .*"1\.1".*"h2".*"h2c"/,
    ],
    [
      'an unknown TLS field',
      '  baseUrl: https://localhost:8443\n  tls: { verify: false }',
      /at target\.tls: .*verify/,
    ],
  ])('refuses %s, naming the field and its line', async (_name, target, expected) => {
    expect(await problem(target)).toMatch(expected);
  });

  it('applies the same rules to scenario objects', async () => {
    await expect(
      loadScenarioSources([
        {
          name: 'object',
          target: { baseUrl: 'http://127.0.0.1:1', path: '/x', tls: { ca: 'ca.pem' } },
          payload: { template: {} },
          effects: { http: { url: '/x' } },
          patterns: [{ kind: 'sequential-duplicates' }],
        },
      ]),
    ).rejects.toThrow(/scenario 'object' at target\.tls: TLS settings need an https target/);
  });

  it('describes the fields in the JSON Schema editors use', () => {
    const text = JSON.stringify(scenarioJsonSchema());
    expect(text).toContain('Skip certificate verification');
    expect(text).toContain('relative to the scenario file');
    expect(text).toContain('h2c');
  });
});
