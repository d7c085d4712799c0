import { inject } from 'vitest';
import {
  startDemoProcess,
  type DemoProcess,
  type DemoProcessOptions,
} from '../../src/demo/target-process.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * The demo target as a child process on a fresh database of the shared PostgreSQL server,
 * with the `process` commands a scenario needs to crash and restart it, and a scenario text
 * for POST /payments that counts effects in PostgreSQL (so readings never depend on the
 * target being up).
 */
export interface RunningDemoProcess {
  readonly target: DemoProcess;
  readonly database: TestDatabase;
  /** A scenario for POST /payments with this target's process commands and `patterns`. */
  scenario(name: string, patterns: string, headers?: Record<string, string>): string;
  /** Kills the target and drops its database. */
  stop(): Promise<void>;
}

export async function startDemoProcessOnTestDatabase(
  options: Omit<DemoProcessOptions, 'databaseUrl'> = {},
): Promise<RunningDemoProcess> {
  const database = await createTestDatabase(inject('databaseUrl'));
  let target: DemoProcess;
  try {
    target = await startDemoProcess({ ...options, databaseUrl: database.url });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const { commands } = target;
  return {
    target,
    database,
    scenario: (name, patterns, headers = {}) =>
      [
        `name: ${JSON.stringify(name)}`,
        'target:',
        `  baseUrl: ${target.url}`,
        '  method: POST',
        '  path: /payments',
        `  headers: ${JSON.stringify(headers)}`,
        '  timeoutMs: 5000',
        "key: { header: Idempotency-Key, template: 'crash-{{run}}-{{n}}' }",
        "payload: { template: { amount: 1250, currency: EUR, customer: 'cus_{{marker}}' } }",
        'effects:',
        '  sql:',
        `    url: ${JSON.stringify(database.url)}`,
        '    query: "SELECT count(*) FROM payments WHERE tenant = \'public\' AND idempotency_key = $1"',
        'process:',
        `  kill: ${JSON.stringify(commands.kill)}`,
        `  start: ${JSON.stringify(commands.start)}`,
        `  cwd: ${JSON.stringify(commands.cwd)}`,
        `  ready: ${JSON.stringify(commands.ready)}`,
        'patterns:',
        patterns,
        '',
      ].join('\n'),
    async stop() {
      await target.stop();
      await database.drop();
    },
  };
}
