import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { describe, expect, inject, it } from 'vitest';
import { startDemoStack } from '../../../src/demo/stack.js';
import { createTestDatabase } from '../../support/database.js';

/** `idemproof demo --serve --https`: the demo target over HTTPS, its CA made at start. */
describe('the demo stack over HTTPS', () => {
  it('serves the demo target over HTTPS through its clean proxy, trusted with the CA it made, and removes the CA on stop', async () => {
    const database = await createTestDatabase(inject('databaseUrl'));
    const stack = await startDemoStack({
      databaseUrl: database.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      https: true,
    });
    try {
      expect(stack.target.url).toMatch(/^https:\/\/localhost:\d+$/);
      expect(stack.proxyUrl).toMatch(/^https:\/\/localhost:\d+$/);
      const ca = await readFile(stack.tls?.ca ?? '', 'utf8');
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const call = request(
          `${stack.proxyUrl}/payments`,
          {
            method: 'POST',
            ca,
            headers: { 'content-type': 'application/json', 'idempotency-key': 'https-demo-1' },
            timeout: 5000,
          },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        call.on('error', reject);
        call.end(JSON.stringify({ amount: 100, currency: 'EUR', customer: 'cus_1' }));
      });
      expect(answer.status).toBe(201);
      expect(answer.body).toContain('"amount":100');
    } finally {
      await stack.stop();
      await database.drop();
    }
    expect(existsSync(stack.tls?.dir ?? '')).toBe(false);
  }, 60_000);
});
