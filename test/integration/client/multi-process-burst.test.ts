import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sendSyncedBurst } from '../../../src/client/burst.js';
import type { AttemptRequest } from '../../../src/client/send.js';
import {
  NEW_CONNECTION_FLOOR_MS,
  SETTLE_CAP_MS,
  SettleMemory,
  settlePause,
} from '../../../src/client/settle.js';
import { runSuite } from '../../../src/run/run.js';
import {
  startMultiProcessTarget,
  type MultiProcessTarget,
} from '../../bench/multi-process-target.js';

const COUNT = 8;

describe('last-byte bursts against a target served by several worker processes', () => {
  let target: MultiProcessTarget;
  let folder: string;
  beforeAll(async () => {
    target = await startMultiProcessTarget({ workers: 2, stopAfterMs: 120_000 });
    folder = await mkdtemp(join(tmpdir(), 'idemproof-multi-process-'));
  });
  afterAll(async () => {
    await target.stop();
    await rm(folder, { recursive: true, force: true });
  });

  function burst(key: string): AttemptRequest[] {
    return Array.from({ length: COUNT }, () => ({
      url: `${target.url}/payments`,
      method: 'POST',
      headers: [
        ['host', new URL(target.url).host],
        ['idempotency-key', key],
        ['content-type', 'application/json'],
      ],
      body: JSON.stringify({ amount: 100, key }),
      timeoutMs: 10_000,
      freshConnection: true,
    }));
  }

  /** Every request answered, and the target's store agrees with what it answered. */
  async function expectDelivered(
    key: string,
    results: Awaited<ReturnType<typeof sendSyncedBurst>>['results'],
  ) {
    const statuses = results.map((result) =>
      result.kind === 'response' ? result.response.status : result.code,
    );
    expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);
    expect(await target.effects(key)).toBe(statuses.filter((status) => status === 201).length);
  }

  it("sizes an 'auto' pause from what it learnt of the target, within the floor and the cap", async () => {
    const memory = new SettleMemory();
    const origin = new URL(target.url).host;
    for (const round of [1, 2, 3]) {
      const key = `auto-${round}-${Date.now()}`;
      const expected = settlePause('auto', {
        count: COUNT,
        reused: false,
        serviceMs: memory.serviceMs(origin),
      });
      const { results, pauseMs } = await sendSyncedBurst(burst(key), () => performance.now(), {
        releasePauseMs: 'auto',
        settleMemory: memory,
      });
      expect(pauseMs).toBe(expected);
      expect(pauseMs).toBeGreaterThanOrEqual(NEW_CONNECTION_FLOOR_MS);
      expect(pauseMs).toBeLessThanOrEqual(SETTLE_CAP_MS);
      await expectDelivered(key, results);
      // Each burst answered teaches the memory the target's service time.
      expect(memory.serviceMs(origin)).toEqual(expect.any(Number));
    }
  });

  it('waits a fixed pause as set', async () => {
    const key = `fixed-${Date.now()}`;
    const { results, pauseMs } = await sendSyncedBurst(burst(key), () => performance.now(), {
      releasePauseMs: 25,
      settleMemory: new SettleMemory(),
    });
    expect(pauseMs).toBe(25);
    await expectDelivered(key, results);
  });

  it.each([
    ['auto', undefined],
    ['fixed', 30],
  ] as const)(
    'runs a concurrent-burst scenario with a %s pause and records it on every completion',
    async (name, pause) => {
      const path = join(folder, `${name}.yaml`);
      await writeFile(
        path,
        `name: multi-process ${name}
target: { baseUrl: http://127.0.0.1:1, path: /payments }
payload: { template: { amount: 100, customer: 'cus_{{marker}}' } }
effects:
  http: { url: '/effects?key={{key}}', count: $.count }
patterns:
  - kind: concurrent-burst
    count: ${COUNT}
    rounds: 2
${pause === undefined ? '' : `    releasePauseMs: ${pause}\n`}`,
      );
      const { history } = await runSuite({
        paths: [path],
        target: target.url,
        toxiproxyUrl: inject('toxiproxyUrl'),
        reportDir: join(folder, `reports-${name}`),
        reporters: ['json'],
        out: () => undefined,
        err: () => undefined,
        interactive: false,
      });
      const completions = history.filter(
        (event) => event.type === 'ok' || event.type === 'fail' || event.type === 'info',
      );
      expect(completions).toHaveLength(2 * COUNT);
      expect(completions.every((event) => event.type === 'ok')).toBe(true);
      const pauses = completions.map((event) =>
        'releasePauseMs' in event ? event.releasePauseMs : undefined,
      );
      if (pause !== undefined) expect(pauses).toEqual(pauses.map(() => pause));
      else
        for (const used of pauses) {
          expect(used).toEqual(expect.any(Number));
          expect(used).toBeLessThanOrEqual(SETTLE_CAP_MS);
        }
      const probes = history.filter((event) => event.type === 'probe');
      expect(probes).toHaveLength(2);
    },
  );
});
