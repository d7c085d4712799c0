import { describe, expect, it } from 'vitest';
import { pendingCleanups, registerCleanup, runCleanups } from '../../../src/provision/cleanup.js';

describe('cleanup registry', () => {
  it('runs every cleanup once, newest first, and reports failures without stopping', async () => {
    const ran: string[] = [];
    registerCleanup({ name: 'first', run: () => Promise.resolve(void ran.push('first')) });
    registerCleanup({ name: 'broken', run: () => Promise.reject(new Error('boom')) });
    registerCleanup({ name: 'last', run: () => Promise.resolve(void ran.push('last')) });
    const errors = await runCleanups();
    expect(ran).toEqual(['last', 'first']);
    expect(errors.map((error) => error.message)).toEqual(['cleanup of broken failed: Error: boom']);
    expect(pendingCleanups()).toEqual([]);
    expect(await runCleanups()).toEqual([]);
  });

  it('forgets a cleanup that was unregistered', async () => {
    let ran = false;
    const unregister = registerCleanup({
      name: 'x',
      run: () => Promise.resolve(void (ran = true)),
    });
    unregister();
    await runCleanups();
    expect(ran).toBe(false);
  });
});
