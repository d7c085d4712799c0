import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TOXIPROXY_IMAGE } from '../../src/provision/toxiproxy-locate.js';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';
import { createProgram } from '../../src/cli/program.js';

interface Service {
  image?: string;
  build?: string;
  network_mode?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
}

describe('docker-compose.yml', () => {
  const text = readFileSync(join(PACKAGE_ROOT, 'docker-compose.yml'), 'utf8');
  const services = (parse(text) as { services: Record<string, Service> }).services;

  it('runs the same Toxiproxy image the testcontainers path uses, on the host network', () => {
    expect(services.toxiproxy?.image).toBe(TOXIPROXY_IMAGE);
    expect(services.toxiproxy?.network_mode).toBe('host');
  });

  it('publishes PostgreSQL on loopback only', () => {
    expect(services.postgres?.ports).toEqual(['127.0.0.1:55432:5432']);
  });

  it('serves the demo target from the idemproof image once PostgreSQL is healthy', () => {
    const demo = services.demo;
    expect(demo?.build).toBe('.');
    expect(demo?.command?.slice(0, 2)).toEqual(['demo', '--serve']);
    expect(demo?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(demo?.healthcheck).toBeDefined();
  });

  it('runs idemproof once against the demo, writing reports to ./reports', () => {
    const run = services.idemproof;
    expect(run?.build).toBe('.');
    expect(run?.command?.[0]).toBe('run');
    expect(run?.command).toContain('--report-dir=/reports');
    expect(run?.volumes).toContain('./reports:/reports');
    expect(run?.depends_on?.demo?.condition).toBe('service_healthy');
    expect(text).toContain('docker compose up --build --exit-code-from idemproof');
  });

  it('uses only options the CLI has, so the services start', () => {
    const program = createProgram({
      result: () => undefined,
      error: () => undefined,
      info: () => undefined,
    });
    for (const name of ['demo', 'idemproof'] as const) {
      const [command, ...args] = services[name]?.command ?? [];
      const sub = program.commands.find((candidate) => candidate.name() === command);
      expect(sub, `${name}: ${command}`).toBeDefined();
      const known = new Set(sub?.options.map((option) => option.long));
      for (const arg of args.filter((value) => value.startsWith('--')))
        expect(known.has(arg.split('=')[0]), `${name}: ${arg}`).toBe(true);
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(PACKAGE_ROOT, 'Dockerfile'), 'utf8');

  it('builds on Node 20 and runs the CLI', () => {
    expect(text).toMatch(/^FROM node:20/m);
    expect(text).toContain('ENTRYPOINT ["node", "dist/cli/bin.js"]');
    expect(text).toContain('COPY scenarios ./scenarios');
  });
});
