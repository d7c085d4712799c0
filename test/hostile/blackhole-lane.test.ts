import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AttemptClient, outcomeOfError } from '../../src/client/send.js';
import { newRunPrefix } from '../../src/demo/stack.js';
import { HistoryRecorder } from '../../src/history/recorder.js';
import { createLanes } from '../../src/nemesis/lanes.js';
import { ToxiproxyApi } from '../../src/nemesis/toxiproxy-api.js';
import { startHostileTarget, type HostileMode } from '../support/hostile-target.js';

/**
 * Safety guarantee: the blackhole lane gives no answer, not even a close, until the client
 * gives up. Before the fix the lane was a lone downstream `timeout` toxic, which passes the
 * target's FIN through: against a target that closes (faulted lanes send `connection: close`)
 * attempts ended after 1–16 ms with UND_ERR_SOCKET instead of at their 1000 ms timeout.
 */
const TIMEOUT_MS = 1000;
const ATTEMPTS = 4;

describe('the blackhole lane, through a real Toxiproxy', () => {
  let api: ToxiproxyApi;
  let client: AttemptClient;
  const prefix = newRunPrefix('test');

  beforeAll(() => {
    api = new ToxiproxyApi(inject('toxiproxyUrl'));
    client = new AttemptClient();
  });
  afterAll(async () => {
    await client.close();
    for (const proxy of await api.listProxies())
      if (proxy.name.startsWith(prefix)) await api.removeProxy(proxy.name);
  });

  it.each<[string, HostileMode]>([
    ['answers with connection: close and closes', 'answer-and-close'],
    ['closes the connection without answering', 'close-silently'],
  ])(
    'against a target that %s (%s), attempts end at the client timeout ±10 per cent, as TIMEOUT / info',
    async (_what, mode) => {
      const target = await startHostileTarget(mode);
      const lanePrefix = `${prefix}_${mode.replace(/-/g, '_')}`;
      const lanes = await createLanes({
        api,
        prefix: lanePrefix,
        upstream: new URL(target.url).host,
        lanes: ['blackhole'],
        slowMs: 0,
        recorder: new HistoryRecorder(),
        scenario: 'blackhole',
      });
      try {
        const definition = lanes.definition('blackhole');
        const url = `http://${lanes.address('blackhole')}/things`;
        const results = await Promise.all(
          Array.from({ length: ATTEMPTS }, (_, index) =>
            client.send({
              url,
              method: 'POST',
              headers: [['content-type', 'application/json']],
              body: JSON.stringify({ index }),
              timeoutMs: TIMEOUT_MS,
              freshConnection: definition.freshConnection,
            }),
          ),
        );
        for (const result of results) {
          expect(result).toMatchObject({ kind: 'error', code: 'TIMEOUT' });
          expect(result.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
          expect(result.durationMs).toBeLessThanOrEqual(TIMEOUT_MS * 1.1);
          if (result.kind === 'error')
            expect(outcomeOfError(result.code, definition.delivers)).toBe('info');
        }
      } finally {
        // Removing the lane closes the connections it holds back, at once: the run's end is
        // not slowed by them, and nothing is left on the shared Toxiproxy.
        const removing = performance.now();
        await lanes.remove();
        expect(performance.now() - removing).toBeLessThan(2000);
        await target.close();
      }
      const left = (await api.listProxies()).filter((proxy) => proxy.name.startsWith(lanePrefix));
      expect(left).toEqual([]);
    },
  );
});
