import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '../../../src/run/run-scenario.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

describe('running patterns concurrently', () => {
  it('runs every item, never more than the limit at once, starting them in order', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      started.push(item);
      running += 1;
      peak = Math.max(peak, running);
      await tick();
      running -= 1;
    });
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('with a limit of 1, runs one after another', async () => {
    const order: string[] = [];
    await forEachConcurrently(['a', 'b'], 1, async (item) => {
      order.push(`start ${item}`);
      await tick();
      order.push(`end ${item}`);
    });
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('starts nothing new after a failure, lets running items finish, and throws the first error', async () => {
    const finished: number[] = [];
    const run = forEachConcurrently([1, 2, 3, 4, 5], 2, async (item) => {
      await tick();
      if (item === 2) throw new Error('boom at 2');
      await tick();
      finished.push(item);
    });
    await expect(run).rejects.toThrow('boom at 2');
    expect(finished).toEqual([1]);
  });
});
