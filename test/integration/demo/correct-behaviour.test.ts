import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, withoutTransportHeaders } from '../../support/http.js';
import { freshKey, samplePayment, startDemo, type RunningDemo } from '../../support/demo-target.js';

describe('demo target, correct behaviour', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo();
  });
  afterAll(async () => {
    await demo.stop();
  });

  it('replays sequential duplicates byte for byte, marked Idempotent-Replayed, with one effect', async () => {
    const key = freshKey('sequential');
    const first = await demo.pay(key, samplePayment());
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const created = JSON.parse(first.body) as Record<string, unknown>;
    expect(Object.keys(created)).toEqual([
      'id',
      'amount',
      'currency',
      'customer',
      'status',
      'created_at',
    ]);
    expect(first.headers.location).toBe(`/payments/${String(created.id)}`);

    for (let attempt = 0; attempt < 4; attempt += 1) {
      const replay = await demo.pay(key, samplePayment());
      expect(replay.status).toBe(first.status);
      expect(replay.body).toBe(first.body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      const { 'idempotent-replayed': _marker, ...replayHeaders } = withoutTransportHeaders(
        replay.headers,
      );
      expect(replayHeaders).toEqual(withoutTransportHeaders(first.headers));
    }
    expect(await demo.paymentsFor(key)).toHaveLength(1);
  });

  it('lets 10 concurrent duplicates make exactly one payment; the others are refused or replayed', async () => {
    const key = freshKey('burst');
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => demo.pay(key, samplePayment())),
    );
    const created = responses.filter((response) => response.status === 201);
    const conflicts = responses.filter((response) => response.status === 409);
    expect(created.length + conflicts.length).toBe(10);
    expect(created.length).toBeGreaterThanOrEqual(1);
    // Every 201 is the same payment: the original or a byte-identical replay.
    expect(new Set(created.map((response) => response.body)).size).toBe(1);
    expect(await demo.paymentsFor(key)).toHaveLength(1);
  });

  it('refuses a different payload under a used key with 409, and keeps the original result', async () => {
    const key = freshKey('mismatch');
    const first = await demo.pay(key, samplePayment(1000));
    const other = await demo.pay(key, samplePayment(2000));
    expect(other.status).toBe(409);
    expect(other.headers['content-type']).toBe('application/problem+json');
    const again = await demo.pay(key, samplePayment(1000));
    expect(again.body).toBe(first.body);
    expect(await demo.paymentsFor(key)).toHaveLength(1);
  });

  it('treats the same payload with its fields in another order as the same request', async () => {
    const key = freshKey('field-order');
    const first = await demo.pay(key, { amount: 700, currency: 'EUR', customer: 'cus_1' });
    const reordered = await send(`${demo.target.url}/payments`, {
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
      json: { customer: 'cus_1', currency: 'EUR', amount: 700 },
    });
    expect(reordered.status).toBe(201);
    expect(reordered.body).toBe(first.body);
  });

  it('answers a missing key with 400 and writes nothing', async () => {
    const before = await demo.database.query<{ n: string }>('SELECT count(*) AS n FROM payments');
    const response = await demo.pay(undefined, samplePayment());
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      status: 400,
      title: 'Missing Idempotency-Key',
    });
    const after = await demo.database.query<{ n: string }>('SELECT count(*) AS n FROM payments');
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it('rejects an invalid payload with 400 without burning the key', async () => {
    const key = freshKey('invalid');
    const invalid = await demo.pay(key, { amount: -5, currency: 'euro', customer: '' });
    expect(invalid.status).toBe(400);
    const valid = await demo.pay(key, samplePayment());
    expect(valid.status).toBe(201);
  });

  it('accepts the key as an RFC 8941 string ("…") as the IETF draft writes it', async () => {
    const key = freshKey('quoted');
    const quoted = await send(`${demo.target.url}/payments`, {
      headers: { 'idempotency-key': `"${key}"` },
      json: samplePayment(),
    });
    const bare = await demo.pay(key, samplePayment());
    expect(quoted.status).toBe(201);
    expect(bare.body).toBe(quoted.body);
  });

  it('scopes keys per tenant: the same key makes one payment per tenant, never shared', async () => {
    const key = freshKey('tenants');
    const alice = await demo.pay(key, samplePayment(), { tenant: 'alice' });
    const bob = await demo.pay(key, samplePayment(), { tenant: 'bob' });
    expect(alice.status).toBe(201);
    expect(bob.status).toBe(201);
    expect(bob.body).not.toBe(alice.body);
    expect(await demo.paymentsFor(key, 'alice')).toHaveLength(1);
    expect(await demo.paymentsFor(key, 'bob')).toHaveLength(1);
    const listed = await send(`${demo.target.url}/payments?idempotency_key=${key}`, {
      headers: { authorization: 'Bearer alice' },
    });
    expect((JSON.parse(listed.body) as { count: number }).count).toBe(1);
    expect(listed.body).toContain((JSON.parse(alice.body) as { id: string }).id);
  });

  it('keeps the order state of in-order changes when a late duplicate of an earlier change arrives', async () => {
    const order = freshKey('order');
    const patch = (key: string, status: string): ReturnType<typeof send> =>
      send(`${demo.target.url}/orders/${order}`, {
        method: 'PATCH',
        headers: { 'idempotency-key': key },
        json: { status },
      });
    expect((await patch(`${order}-paid`, 'paid')).status).toBe(200);
    expect((await patch(`${order}-shipped`, 'shipped')).status).toBe(200);
    const late = await patch(`${order}-paid`, 'paid');
    expect(late.headers['idempotent-replayed']).toBe('true');
    const state = await send(`${demo.target.url}/orders/${order}`);
    expect(JSON.parse(state.body)).toMatchObject({ status: 'shipped', version: 2 });
    const events = await send(`${demo.target.url}/orders/${order}/events`);
    expect((JSON.parse(events.body) as { count: number }).count).toBe(2);
  });

  it('publishes its idempotency policy', async () => {
    const response = await send(`${demo.target.url}/idempotency-policy`);
    expect(JSON.parse(response.body)).toMatchObject({
      header: 'Idempotency-Key',
      retention_seconds: 86_400,
      mismatch_status: 409,
      in_flight_status: 409,
    });
  });
});

describe('demo target, timing windows', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ processingMs: 400, keyTtlMs: 1500 });
  });
  afterAll(async () => {
    await demo.stop();
  });

  it('answers a duplicate that arrives while the first is in flight with 409 and Retry-After', async () => {
    const key = freshKey('in-flight');
    const first = demo.pay(key, samplePayment());
    await new Promise((resolve) => setTimeout(resolve, 100));
    const duplicate = await demo.pay(key, samplePayment());
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers['retry-after']).toBe('1');
    expect((await first).status).toBe(201);
    expect(await demo.paymentsFor(key)).toHaveLength(1);
  });

  it('completes a request whose client went away, and replays it to the retry', async () => {
    const key = freshKey('client-gone');
    await expect(demo.pay(key, samplePayment(), { fresh: true, timeoutMs: 100 })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const retry = await demo.pay(key, samplePayment());
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await demo.paymentsFor(key)).toHaveLength(1);
  });

  it('forgets a key after the retention it declares, so a later request runs again', async () => {
    const key = freshKey('retention');
    await demo.pay(key, samplePayment());
    const withinWindow = await demo.pay(key, samplePayment());
    expect(withinWindow.headers['idempotent-replayed']).toBe('true');
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const afterWindow = await demo.pay(key, samplePayment());
    expect(afterWindow.headers['idempotent-replayed']).toBeUndefined();
    expect(await demo.paymentsFor(key)).toHaveLength(2);
  });
});
