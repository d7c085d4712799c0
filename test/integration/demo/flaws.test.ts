import { describe, expect, it } from 'vitest';
import { FLAW_NAMES, type FlawName } from '../../../src/demo/flaws.js';
import type { DemoTargetOptions } from '../../../src/demo/server.js';
import { withoutTransportHeaders } from '../../support/http.js';
import { freshKey, samplePayment, startDemo, type RunningDemo } from '../../support/demo-target.js';

/**
 * Each flaw has a probe: a short story that returns a sentence when the mistake shows, or
 * undefined when the target behaved. The same probe runs against the flawed target (the
 * mistake must show) and against the correct target with the same settings (it must not).
 */
interface FlawProbe {
  readonly settings: Omit<DemoTargetOptions, 'databaseUrl' | 'flaw'>;
  probe(demo: RunningDemo): Promise<string | undefined>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const PROBES: Record<FlawName, FlawProbe> = {
  'no-idempotency': {
    settings: {},
    async probe(demo) {
      const key = freshKey();
      await demo.pay(key, samplePayment());
      await demo.pay(key, samplePayment());
      const effects = (await demo.paymentsFor(key)).length;
      return effects > 1
        ? `two sequential requests with one key made ${effects} payments`
        : undefined;
    },
  },
  'check-then-insert': {
    // A 20 ms call to the payment provider sits between the check and the insert.
    settings: { processingMs: 20 },
    async probe(demo) {
      // Sequential duplicates are handled: this flaw only shows under concurrency.
      const sequential = freshKey();
      await demo.pay(sequential, samplePayment());
      const replay = await demo.pay(sequential, samplePayment());
      if (replay.headers['idempotent-replayed'] !== 'true')
        return 'a sequential duplicate was not replayed';
      for (let burst = 0; burst < 5; burst += 1) {
        const key = freshKey();
        await Promise.all(Array.from({ length: 10 }, () => demo.pay(key, samplePayment())));
        const effects = (await demo.paymentsFor(key)).length;
        if (effects > 1)
          return `10 concurrent duplicates made ${effects} payments (burst ${burst + 1})`;
      }
      return undefined;
    },
  },
  'no-payload-check': {
    settings: {},
    async probe(demo) {
      const key = freshKey();
      await demo.pay(key, samplePayment(1000));
      const other = await demo.pay(key, samplePayment(9999));
      return other.status < 300
        ? `a different payload under a used key got ${other.status} with body ${other.body}`
        : undefined;
    },
  },
  'regenerated-replay': {
    settings: {},
    async probe(demo) {
      const key = freshKey();
      const first = await demo.pay(key, samplePayment());
      const replay = await demo.pay(key, samplePayment());
      const { 'idempotent-replayed': _marker, ...replayHeaders } = withoutTransportHeaders(
        replay.headers,
      );
      const differences = [
        replay.status !== first.status ? `status ${replay.status} instead of ${first.status}` : '',
        replay.body !== first.body ? 'body bytes differ' : '',
        JSON.stringify(replayHeaders) !== JSON.stringify(withoutTransportHeaders(first.headers))
          ? 'headers differ'
          : '',
      ].filter((difference) => difference !== '');
      return differences.length > 0 ? `the replay differs: ${differences.join(', ')}` : undefined;
    },
  },
  'unscoped-keys': {
    settings: {},
    async probe(demo) {
      const key = freshKey();
      const alice = await demo.pay(key, samplePayment(), { tenant: 'alice' });
      const bob = await demo.pay(key, samplePayment(), { tenant: 'bob' });
      const aliceId = (JSON.parse(alice.body) as { id: string }).id;
      if (bob.body.includes(aliceId))
        return `tenant bob was served tenant alice's payment ${aliceId}`;
      const bobEffects = (await demo.paymentsFor(key, 'bob')).length;
      return bobEffects !== 1 ? `tenant bob's request made ${bobEffects} payments` : undefined;
    },
  },
  'ttl-units': {
    // The target declares 60 s of retention; a retry after 200 ms must still be replayed.
    settings: { keyTtlMs: 60_000 },
    async probe(demo) {
      const key = freshKey();
      await demo.pay(key, samplePayment());
      await sleep(200);
      await demo.pay(key, samplePayment());
      const effects = (await demo.paymentsFor(key)).length;
      return effects > 1
        ? `a retry 200 ms later, inside the declared 60 s window, made payment number ${effects}`
        : undefined;
    },
  },
  'release-on-disconnect': {
    settings: { processingMs: 300 },
    async probe(demo) {
      const key = freshKey();
      // The client gives up after 100 ms, while the provider call is still running.
      await demo.pay(key, samplePayment(), { fresh: true, timeoutMs: 100 }).catch(() => undefined);
      await sleep(500);
      await demo.pay(key, samplePayment());
      const effects = (await demo.paymentsFor(key)).length;
      return effects > 1
        ? `the retry after a client timeout made payment number ${effects}`
        : undefined;
    },
  },
  'missing-retry-after': {
    settings: { processingMs: 300 },
    async probe(demo) {
      const key = freshKey();
      const first = demo.pay(key, samplePayment());
      await sleep(100);
      const duplicate = await demo.pay(key, samplePayment());
      await first;
      if (duplicate.status !== 409) return `the duplicate in flight got ${duplicate.status}`;
      return duplicate.headers['retry-after'] === undefined
        ? 'the 409 for a duplicate in flight carries no Retry-After'
        : undefined;
    },
  },
  'stuck-after-abort': {
    settings: { processingMs: 300 },
    async probe(demo) {
      const key = freshKey();
      // The client gives up after 100 ms, while the provider call is still running.
      await demo.pay(key, samplePayment(), { fresh: true, timeoutMs: 100 }).catch(() => undefined);
      return stillInProgress(demo, key, 'after the client gave up');
    },
  },
  '500-then-409': {
    settings: {},
    async probe(demo) {
      const key = freshKey();
      const headers = { 'demo-provider-fail': 'true' };
      const first = await demo.pay(key, samplePayment(), { headers });
      if (first.status !== 500) return undefined;
      return stillInProgress(demo, key, 'after a 500');
    },
  },
  'trusted-client-header': {
    settings: {},
    async probe(demo) {
      const key = freshKey();
      const headers = { 'x-idempotency-status': 'processing' };
      const first = await demo
        .pay(key, samplePayment(), { fresh: true, timeoutMs: 300, headers })
        .catch(() => undefined);
      if (first !== undefined) return undefined;
      return stillInProgress(demo, key, 'after a request with X-Idempotency-Status: processing');
    },
  },
};

/** A sentence when the key still answers 409 a second after `when`, with no payment made. */
async function stillInProgress(
  demo: RunningDemo,
  key: string,
  when: string,
): Promise<string | undefined> {
  await sleep(1000);
  const retry = await demo.pay(key, samplePayment());
  const effects = (await demo.paymentsFor(key)).length;
  return retry.status === 409 && effects === 0
    ? `a retry 1 s ${when} got 409 in progress and no payment was made`
    : undefined;
}

async function observe(flaw: FlawName | 'none', probe: FlawProbe): Promise<string | undefined> {
  const demo = await startDemo({ ...probe.settings, flaw });
  try {
    return await probe.probe(demo);
  } finally {
    await demo.stop();
  }
}

describe('demo target flaws', () => {
  it('has a probe for every flaw', () => {
    expect(Object.keys(PROBES).sort()).toEqual([...FLAW_NAMES].sort());
  });

  describe.each(FLAW_NAMES)('%s', (flaw) => {
    const probe = PROBES[flaw];

    it('reproduces its mistake', async () => {
      expect(await observe(flaw, probe)).toEqual(expect.any(String));
    });

    it('is absent from the correct target under the same conditions', async () => {
      expect(await observe('none', probe)).toBeUndefined();
    });
  });

  it('without idempotency, accepts a request that has no key at all', async () => {
    const demo = await startDemo({ flaw: 'no-idempotency' });
    try {
      expect((await demo.pay(undefined, samplePayment())).status).toBe(201);
    } finally {
      await demo.stop();
    }
  });
});
