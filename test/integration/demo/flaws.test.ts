import { describe, expect, inject, it } from 'vitest';
import { FLAW_NAMES, type FlawName } from '../../../src/demo/flaws.js';
import { fingerprintOf } from '../../../src/demo/idempotency.js';
import { parsePaymentRequest } from '../../../src/demo/payments.js';
import { startDemoTarget, type DemoTargetOptions } from '../../../src/demo/server.js';
import { startSink } from '../../../src/probe/sink.js';
import { withoutTransportHeaders } from '../../support/http.js';
import { freshKey, samplePayment, startDemo, type RunningDemo } from '../../support/demo-target.js';

/**
 * Each flaw has a probe: a short story that returns a sentence when the mistake shows, or
 * undefined when the target behaved. The same probe runs against the flawed target (the
 * mistake must show) and against the correct target with the same settings (it must not).
 */
interface FlawProbe {
  readonly settings: Omit<DemoTargetOptions, 'databaseUrl' | 'flaw'> & {
    readonly throughStoreProxy?: boolean;
  };
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
  'unforwarded-key': { settings: {}, probe: chargesTwice },
  'new-key-per-retry': { settings: {}, probe: chargesTwice },
  'crash-stuck': {
    // A process that crashed mid-request left this reservation 1 s ago; it may be taken over.
    settings: { lockTimeoutMs: 200 },
    async probe(demo) {
      const key = freshKey();
      const body = parsePaymentRequest(samplePayment());
      const request = { tenant: 'public', key, method: 'POST', path: '/payments', body };
      await demo.database.query(
        `INSERT INTO idempotency_keys
           (tenant, key, method, path, fingerprint, state, lock_token, locked_at, expires_at)
         VALUES ('public', $1, 'POST', '/payments', $2, 'in_progress', 'crashed',
                 now() - interval '1 second', now() + interval '1 day')`,
        [key, fingerprintOf(request)],
      );
      const retry = await demo.pay(key, samplePayment());
      return retry.status === 409
        ? 'a retry after a crashed reservation older than the lock timeout got 409 in progress'
        : undefined;
    },
  },
  'fail-open': { settings: { throughStoreProxy: true }, probe: failsOpen },
  'cache-only-dedupe': {
    settings: {},
    async probe(demo) {
      const key = freshKey();
      await demo.pay(key, samplePayment());
      // The same target started again on the same database: a cold start.
      const restarted = await startDemoTarget({
        databaseUrl: demo.database.url,
        flaw: demo.target.flaw,
      });
      try {
        await demo.pay(key, samplePayment(), { baseUrl: restarted.url });
      } finally {
        await restarted.close();
      }
      const effects = (await demo.paymentsFor(key)).length;
      return effects > 1 ? `a replay after a restart made ${effects} payments` : undefined;
    },
  },
};

/**
 * A sentence when a payment sent while the store (PostgreSQL, behind its proxy) is down got a
 * 201 and its webhook was called: the work went ahead without a key record.
 */
async function failsOpen(demo: RunningDemo): Promise<string | undefined> {
  const store = demo.store;
  if (store === undefined) throw new Error('fail-open needs the store proxy');
  const toxiproxy = inject('toxiproxyUrl');
  const setEnabled = async (enabled: boolean): Promise<void> => {
    const response = await fetch(`${toxiproxy}/proxies/${store.name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled }),
    });
    await response.text();
  };
  const sink = await startSink();
  try {
    const key = freshKey();
    await setEnabled(false);
    let status: number;
    try {
      status = (
        await demo.pay(key, { ...samplePayment(), webhook_url: `${sink.url}/${key}` } as never)
      ).status;
    } finally {
      await setEnabled(true);
    }
    if (status !== 201) return undefined;
    for (let waited = 0; waited < 2000 && sink.count(key) === 0; waited += 50) await sleep(50);
    return sink.count(key) > 0
      ? 'a payment sent while the store was down got 201 and its webhook was called'
      : undefined;
  } finally {
    await sink.close();
  }
}

/**
 * A sentence when one payment charged its provider more than once: the provider (a sink that
 * charges and drops the first call, dedupes by Idempotency-Key) counts its charges.
 */
async function chargesTwice(demo: RunningDemo): Promise<string | undefined> {
  const sink = await startSink();
  try {
    sink.program({ answers: ['drop', 'ok'], forwardedKey: 'Idempotency-Key' });
    const key = freshKey();
    const body = { ...samplePayment(), provider_url: `${sink.url}/${key}` };
    const answered = await demo.pay(key, body);
    const charges = sink.count(key);
    return answered.status === 201 && charges > 1
      ? `one payment whose first provider call was dropped made ${charges} provider charges`
      : undefined;
  } finally {
    await sink.close();
  }
}

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
