import { describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { TOXIPROXY_INSTALL_COMMAND } from '../../../src/provision/toxiproxy-install.js';
import {
  TOXIPROXY_IMAGE,
  chooseToxiproxy,
  type ToxiproxyFacts,
} from '../../../src/provision/toxiproxy-locate.js';

/** Facts with every way present; tests take ways away and record which probes ran. */
function facts(overrides: Partial<ToxiproxyFacts> = {}): ToxiproxyFacts & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    optionUrl: 'http://option:1',
    envUrl: 'http://env:2',
    installedBinary: () => {
      asked.push('installed');
      return Promise.resolve('/tools/bin/toxiproxy-server');
    },
    binaryOnPath: () => {
      asked.push('path');
      return Promise.resolve('/usr/bin/toxiproxy-server');
    },
    dockerEngine: () => {
      asked.push('docker');
      return Promise.resolve(true as const);
    },
    ...overrides,
  };
}

const none = (): Promise<undefined> => Promise.resolve(undefined);

describe('where idemproof finds Toxiproxy', () => {
  it('takes the --toxiproxy option first, without probing anything', async () => {
    const given = facts();
    expect(await chooseToxiproxy(given)).toEqual({
      way: 'url',
      url: 'http://option:1',
      origin: 'option',
    });
    expect(given.asked).toEqual([]);
  });

  it('then TOXIPROXY_URL', async () => {
    const given = facts({ optionUrl: undefined });
    expect(await chooseToxiproxy(given)).toEqual({
      way: 'url',
      url: 'http://env:2',
      origin: 'TOXIPROXY_URL',
    });
    expect(given.asked).toEqual([]);
  });

  it('accepts host:port without a scheme and drops a trailing path', async () => {
    const given = facts({ optionUrl: undefined, envUrl: '127.0.0.1:8474/' });
    expect(await chooseToxiproxy(given)).toMatchObject({ url: 'http://127.0.0.1:8474' });
  });

  it('treats a blank TOXIPROXY_URL as unset', async () => {
    const given = facts({ optionUrl: '', envUrl: '  ' });
    expect(await chooseToxiproxy(given)).toMatchObject({ way: 'binary', origin: 'installed' });
  });

  it('then the binary idemproof installed, before one on PATH and before Docker', async () => {
    const given = facts({ optionUrl: undefined, envUrl: undefined });
    expect(await chooseToxiproxy(given)).toEqual({
      way: 'binary',
      path: '/tools/bin/toxiproxy-server',
      origin: 'installed',
    });
    expect(given.asked).toEqual(['installed']);
  });

  it('then a toxiproxy-server on PATH', async () => {
    const given = facts({ optionUrl: undefined, envUrl: undefined, installedBinary: none });
    expect(await chooseToxiproxy(given)).toEqual({
      way: 'binary',
      path: '/usr/bin/toxiproxy-server',
      origin: 'PATH',
    });
    expect(given.asked).toEqual(['path']);
  });

  it('then a container when a Docker engine answers', async () => {
    const given = facts({
      optionUrl: undefined,
      envUrl: undefined,
      installedBinary: none,
      binaryOnPath: none,
    });
    expect(await chooseToxiproxy(given)).toEqual({ way: 'container', image: TOXIPROXY_IMAGE });
  });

  it('otherwise fails with a message naming the three ways, the install command and why Docker failed', async () => {
    const given = facts({
      optionUrl: undefined,
      envUrl: undefined,
      installedBinary: none,
      binaryOnPath: none,
      dockerEngine: () => Promise.resolve('no Docker engine answered'),
    });
    const error = await chooseToxiproxy(given).catch((caught: unknown) => caught);
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_TOXIPROXY_UNAVAILABLE');
    const message = (error as Error).message;
    expect(message).toContain('TOXIPROXY_URL');
    expect(message).toContain('--toxiproxy');
    expect(message).toContain('toxiproxy-server');
    expect(message).toContain("'idemproof setup'");
    expect(message).toContain(TOXIPROXY_INSTALL_COMMAND);
    expect(message).toContain(TOXIPROXY_IMAGE);
    expect(message).toContain('no Docker engine answered');
    expect(message.indexOf('1.')).toBeLessThan(message.indexOf('2.'));
    expect(message.indexOf('2.')).toBeLessThan(message.indexOf('3.'));
  });

  it('rejects a Toxiproxy URL that is not a URL as a usage error', async () => {
    const error = await chooseToxiproxy(facts({ optionUrl: 'http://[bad' })).catch(
      (caught: unknown) => caught,
    );
    expect(isIdemproofError(error) && error.category).toBe('usage');
  });
});
