import { describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import {
  assertHostAllowed,
  assertHostsAllowed,
  hostOfUrl,
  hostsOfConnectionString,
  isLoopback,
  type HostLookup,
} from '../../../src/run/blast-radius.js';

function refusal(url: string, allow: string[] = []): string | undefined {
  try {
    assertHostAllowed(url, allow, 'target', 'scenarios/x.yaml');
    return undefined;
  } catch (error) {
    if (!isIdemproofError(error) || error.category !== 'usage') throw error;
    return error.message;
  }
}

describe('blast radius: hosts', () => {
  it('knows loopback when it sees it, and nothing else as loopback', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'api.localhost', '[::1]', '::1'])
      expect(isLoopback(host), host).toBe(true);
    for (const host of [
      '10.0.0.1',
      '0.0.0.0',
      'localhost.example.com',
      '::ffff:7f00:1',
      'example.com',
    ])
      expect(isLoopback(host), host).toBe(false);
  });

  it('refuses a host outside loopback, naming it, the file and both ways to allow it', () => {
    const message = refusal('https://api.example.com/v1');
    expect(message).toContain('scenarios/x.yaml');
    expect(message).toContain('api.example.com');
    expect(message).toContain('--allow-host api.example.com');
    expect(message).toContain('target.allowHosts');
    expect(refusal('http://127.0.0.1:3000')).toBeUndefined();
  });

  it('allows a host by name, name:port or *.domain, and nothing by partial match', () => {
    expect(refusal('https://api.example.com', ['API.example.com'])).toBeUndefined();
    expect(refusal('https://api.example.com', ['api.example.com:443'])).toBeUndefined();
    expect(refusal('https://api.example.com:8443', ['api.example.com:443'])).toBeDefined();
    expect(refusal('https://a.b.staging.example.com', ['*.staging.example.com'])).toBeUndefined();
    expect(
      refusal('https://staging.example.com.evil.net', ['*.staging.example.com']),
    ).toBeDefined();
    expect(refusal('https://evilstaging.example.com', ['*.staging.example.com'])).toBeDefined();
    expect(refusal('https://example.com', ['example.co'])).toBeDefined();
  });

  it('says so when the URL is not one', () => {
    expect(refusal('not a url')).toContain("target 'not a url' is not a URL");
  });
});

describe('blast radius: every host resolved before any traffic', () => {
  /** A resolver that answers from a table, and records what it was asked. */
  function table(entries: Record<string, string[]>): HostLookup & { asked: string[] } {
    const asked: string[] = [];
    const lookup = (hostname: string): Promise<readonly string[]> => {
      asked.push(hostname);
      const addresses = entries[hostname];
      return addresses === undefined
        ? Promise.reject(new Error(`getaddrinfo ENOTFOUND ${hostname}`))
        : Promise.resolve(addresses);
    };
    return Object.assign(lookup, { asked });
  }

  async function refusedAsync(
    url: string,
    lookup: HostLookup,
    allow: string[] = [],
  ): Promise<string | undefined> {
    try {
      await assertHostsAllowed([hostOfUrl(url, 'target', 'x.yaml')], allow, 'x.yaml', lookup);
      return undefined;
    } catch (error) {
      if (!isIdemproofError(error) || error.category !== 'usage') throw error;
      return error.message;
    }
  }

  it('does not trust *.localhost by its spelling: it must resolve to loopback only', async () => {
    const lookup = table({
      'evil.localhost': ['10.255.255.1'],
      'mixed.localhost': ['127.0.0.1', '192.168.1.20'],
      'good.localhost': ['127.0.0.1', '::1'],
      localhost: ['127.0.0.1'],
    });
    expect(await refusedAsync('http://evil.localhost:3000', lookup)).toMatch(
      /x\.yaml: the target http:\/\/evil\.localhost:3000 resolves to 10\.255\.255\.1, outside loopback.*--allow-host evil\.localhost/,
    );
    expect(await refusedAsync('http://mixed.localhost', lookup)).toContain('192.168.1.20');
    expect(await refusedAsync('http://good.localhost:1', lookup)).toBeUndefined();
    expect(await refusedAsync('http://localhost:1', lookup)).toBeUndefined();
    // A name that does not resolve cannot be shown to be loopback.
    expect(await refusedAsync('http://nowhere.localhost', lookup)).toContain('does not resolve');
  });

  it('checks address literals without a lookup, and allowed names without one either', async () => {
    const lookup = table({});
    expect(await refusedAsync('http://10.255.255.1:5432', lookup)).toContain('outside loopback');
    expect(await refusedAsync('http://[::1]:80', lookup)).toBeUndefined();
    expect(await refusedAsync('https://api.example.com', lookup, ['api.example.com'])).toBe(
      undefined,
    );
    expect(lookup.asked).toEqual([]);
  });

  it('never prints the credentials of the URL it refuses', async () => {
    const message = await refusedAsync('http://admin:hunter2secret@10.0.0.7/x', table({}));
    expect(message).toContain('10.0.0.7');
    expect(message).not.toContain('hunter2secret');
    expect(refusal('http://admin:hunter2secret@10.0.0.7:99999999/x')).not.toContain(
      'hunter2secret',
    );
  });
});

describe('blast radius: the hosts of a PostgreSQL connection string', () => {
  const hosts = (text: string, env: NodeJS.ProcessEnv = {}): string[] =>
    hostsOfConnectionString(text, 'effect probe (SQL)', env).map(
      (use) => `${use.hostname}:${use.port}`,
    );

  it('reads the host the way node-postgres does: URL, ?host=, hostaddr, lists, PGHOST', () => {
    expect(hosts('postgres://u:p@10.255.255.1:6543/db')).toEqual(['10.255.255.1:6543']);
    expect(hosts('postgres://u:p@127.0.0.1/db?host=10.1.2.3')).toEqual(['10.1.2.3:5432']);
    expect(hosts('postgres://u:p@127.0.0.1/db?hostaddr=10.1.2.3')).toEqual([
      '127.0.0.1:5432',
      '10.1.2.3:5432',
    ]);
    expect(hosts('postgres://u:p@a.example,b.example/db')).toEqual([
      'a.example:5432',
      'b.example:5432',
    ]);
    expect(hosts('postgres://u:p@[::1]:5433/db')).toEqual(['::1:5433']);
    expect(hosts('postgres://u:p@/db', { PGHOST: '10.9.9.9' })).toEqual(['10.9.9.9:5432']);
    expect(hosts('postgres:///db')).toEqual(['localhost:5432']);
  });

  it('treats a unix socket as local: no host to check', () => {
    expect(hosts('/var/run/postgresql mydb')).toEqual([]);
    expect(hosts('socket:/var/run/postgresql?db=mydb')).toEqual([]);
    expect(hosts('postgres://u:p@%2Fvar%2Frun%2Fpostgresql/db')).toEqual([]);
    expect(hosts('postgres://u:p@/db?host=/var/run/postgresql')).toEqual([]);
  });

  it('shows the connection string without its password', () => {
    const [use] = hostsOfConnectionString('postgres://u:s3cretpass@10.0.0.1/db', 'x', {});
    expect(use?.shown).not.toContain('s3cretpass');
  });
});
