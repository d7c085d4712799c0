import { existsSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { startDemoStack } from '../../../src/demo/stack.js';
import { runCommand } from '../../../src/nemesis/process.js';
import { createTestDatabase } from '../../support/database.js';
import { send } from '../../support/http.js';

/** `idemproof demo --process --workers 2`: the demo target as a cluster the scenario can crash. */
describe('the demo stack with the target as a child process', () => {
  it('serves through its proxy, is crashed and restarted by its commands, and is gone after stop', async () => {
    const database = await createTestDatabase(inject('databaseUrl'));
    const stack = await startDemoStack({
      databaseUrl: database.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      targetProcess: { workers: 2 },
    });
    const child = stack.process;
    try {
      expect(child).toBeDefined();
      if (child === undefined) return;
      const pay = () =>
        send(`${stack.proxyUrl}/payments`, {
          json: { amount: 100, currency: 'EUR', customer: 'cus_1' },
          headers: { 'idempotency-key': 'process-stack-1' },
          fresh: true,
        });
      expect((await pay()).status).toBe(201);
      const cwd = child.commands.cwd ?? '.';
      expect((await runCommand(child.commands.kill, { cwd, timeoutMs: 5000 })).exitCode).toBe(0);
      expect((await runCommand(child.commands.start, { cwd, timeoutMs: 5000 })).exitCode).toBe(0);
      // Ready again within the bounded wait, and the key survived the restart in PostgreSQL.
      let replay = await pay().catch(() => undefined);
      for (let tries = 0; tries < 100 && replay?.status !== 201; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        replay = await pay().catch(() => undefined);
      }
      expect(replay?.status).toBe(201);
      expect(replay?.headers['idempotent-replayed']).toBe('true');
    } finally {
      await stack.stop();
      await database.drop();
    }
    expect(existsSync(child?.pidFile ?? '/nonexistent')).toBe(false);
  });
});
