import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOXIPROXY_IMAGE } from '../../src/provision/toxiproxy-locate.js';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';

describe('docker-compose.yml', () => {
  const compose = readFileSync(join(PACKAGE_ROOT, 'docker-compose.yml'), 'utf8');

  it('runs the same Toxiproxy image the testcontainers path uses', () => {
    expect(compose).toContain(`image: ${TOXIPROXY_IMAGE}`);
  });

  it('shares the host network with Toxiproxy, so loopback proxies reach loopback targets', () => {
    expect(compose).toMatch(/toxiproxy:[\s\S]*network_mode: host/);
  });

  it('publishes PostgreSQL on loopback only', () => {
    expect(compose).toContain("'127.0.0.1:55432:5432'");
  });
});
