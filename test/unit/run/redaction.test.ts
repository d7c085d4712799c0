import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../../src/history/redact.js';
import { redactedScenario, redactorFor } from '../../../src/run/redaction.js';
import type { LoadedScenario } from '../../../src/scenario/load.js';
import { scenarioSchema, type ScenarioInput } from '../../../src/scenario/schema.js';

function loaded(extra: Partial<ScenarioInput> = {}, file = 's.yaml'): LoadedScenario {
  return {
    file,
    scenario: scenarioSchema.parse({
      name: file,
      target: { baseUrl: 'http://127.0.0.1:3000', path: '/things' },
      payload: { template: { amount: 1 } },
      effects: { http: { url: '/things?key={{key}}', count: '$.count' } },
      patterns: [{ kind: 'sequential-duplicates' }],
      ...extra,
    }),
  };
}

const ENV = { TENANT_TOKEN: 'tenant_env_secret_1', REGION: 'eu-west-1', SHORT: 'abc' };

describe('the run redactor', () => {
  it('treats every value expanded from ${ENV} as a secret, in any header', () => {
    const redactor = redactorFor(
      [
        loaded({
          target: {
            baseUrl: 'http://127.0.0.1:1',
            path: '/x',
            headers: { 'X-Tenant-Auth': 'T ${TENANT_TOKEN}', 'X-Short': '${SHORT}' },
          },
        }),
      ],
      undefined,
      ENV,
    );
    expect(redactor.isSensitiveHeader('x-tenant-auth')).toBe(true);
    // Too short to hunt for elsewhere, so its header is hidden by name.
    expect(redactor.isSensitiveHeader('x-short')).toBe(true);
    expect(redactor.scrub('echo: tenant_env_secret_1')).toBe(`echo: ${REDACTED}`);
  });

  it('leaves a variable readable only where the scenario lists it under redact.publicEnv', () => {
    const headers = { 'X-Region': '${REGION}' };
    const open = loaded({
      target: { baseUrl: 'http://127.0.0.1:1', path: '/x', headers },
      redact: { publicEnv: ['REGION'] },
    });
    expect(redactorFor([open], undefined, ENV).scrub('eu-west-1')).toBe('eu-west-1');
    expect(redactorFor([open], undefined, ENV).isSensitiveHeader('x-region')).toBe(false);
    // Another scenario in the same run that does not list it: the value is a secret.
    const closed = loaded(
      { target: { baseUrl: 'http://127.0.0.1:1', path: '/x', headers } },
      't.yaml',
    );
    expect(redactorFor([open, closed], undefined, ENV).scrub('eu-west-1')).toBe(REDACTED);
  });

  it('knows SQL probe passwords (written or from ${ENV}) before any traffic', () => {
    const written = loaded({
      effects: { sql: { url: 'postgres://app:sql_written_pw@127.0.0.1/db', query: 'select 1' } },
    });
    const fromEnv = loaded(
      { effects: { sql: { url: '${DB_URL}', query: 'select 1' } } },
      'env.yaml',
    );
    const redactor = redactorFor([written, fromEnv], undefined, {
      DB_URL: 'postgres://app:sql_env_pw_77@127.0.0.1/db',
    });
    expect(redactor.scrub('sql_written_pw / sql_env_pw_77')).toBe(`${REDACTED} / ${REDACTED}`);
    const json = JSON.stringify(redactedScenario(written.scenario, redactor));
    expect(json).not.toContain('sql_written_pw');
    expect(json).toContain(`postgres://${REDACTED}@127.0.0.1/db`);
  });

  it('knows the password of --target, and credential values written in scenario URLs', () => {
    const redactor = redactorFor(
      [loaded({ target: { baseUrl: 'http://127.0.0.1:1', path: '/x?token=path_token_123' } })],
      'http://u:target_pw_123@127.0.0.1:1',
      {},
    );
    expect(redactor.scrub('target_pw_123 path_token_123')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('keeps a credential query parameter readable only if every scenario says so', () => {
    const open = loaded({ redact: { publicQueryParams: ['KEY'] } });
    expect(redactorFor([open], undefined, {}).scrub('/x?key=idp-1')).toBe('/x?key=idp-1');
    expect(redactorFor([open, loaded({}, 'u.yaml')], undefined, {}).scrub('/x?key=idp-1')).toBe(
      `/x?key=${REDACTED}`,
    );
    const more = loaded({ redact: { queryParams: ['client_secret'] } });
    expect(redactorFor([more], undefined, {}).scrub('/x?client_secret=c')).toBe(
      `/x?client_secret=${REDACTED}`,
    );
  });
});
