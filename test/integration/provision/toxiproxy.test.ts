import { describe, expect, inject, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { findInstalledToxiproxy } from '../../../src/provision/toxiproxy-install.js';
import {
  machineToxiproxyFacts,
  probeDockerEngine,
} from '../../../src/provision/toxiproxy-locate.js';
import { startToxiproxy, toxiproxyVersion } from '../../../src/provision/toxiproxy-start.js';

describe('Toxiproxy provisioning', () => {
  it('starts the installed toxiproxy-server on a free loopback port and stops it', async () => {
    const installed = await findInstalledToxiproxy();
    expect(
      installed,
      "run 'idemproof setup' (npm test does) to install toxiproxy-server",
    ).toBeDefined();
    const server = await startToxiproxy({
      facts: { ...machineToxiproxyFacts({ env: { ...process.env, TOXIPROXY_URL: '' } }) },
    });
    expect(server.choice).toEqual({ way: 'binary', path: installed, origin: 'installed' });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await toxiproxyVersion(server.url)).toContain('version');
    await server.stop();
    await expect(toxiproxyVersion(server.url, 1000)).rejects.toThrow();
  });

  it('uses the server TOXIPROXY_URL names, and leaves it running on stop', async () => {
    const url = inject('toxiproxyUrl');
    const server = await startToxiproxy({
      facts: machineToxiproxyFacts({ env: { TOXIPROXY_URL: url } }),
    });
    expect(server.choice).toEqual({ way: 'url', url, origin: 'TOXIPROXY_URL' });
    await server.stop();
    expect(await toxiproxyVersion(url)).toContain('version');
  });

  it('says which setting points at a server that does not answer', async () => {
    const error = await startToxiproxy({
      facts: machineToxiproxyFacts({ env: { TOXIPROXY_URL: 'http://127.0.0.1:1' } }),
    }).catch((caught: unknown) => caught);
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_TOXIPROXY_UNAVAILABLE');
    expect((error as Error).message).toMatch(
      /^TOXIPROXY_URL=http:\/\/127\.0\.0\.1:1 does not answer GET \/version/,
    );
  });

  it('asks for a Docker engine without hanging, and says why it cannot use one', async () => {
    const started = Date.now();
    const answer = await probeDockerEngine(3000);
    expect(Date.now() - started).toBeLessThan(10_000);
    if (answer !== true) expect(answer).toMatch(/Docker engine/);
  });
});
