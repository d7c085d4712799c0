import { describe, expect, it } from 'vitest';
import { tenantIsolation } from '../../../src/check/tenant-isolation.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

const context = { profile: PROFILES.default };
const as = (tenant: string | null, key = 'k-shared') =>
  ({ key, tenant, label: `as ${tenant ?? 'default'}`, patternKind: 'cross-tenant' }) as const;

describe('tenantIsolation', () => {
  it('holds when each tenant gets its own result for a shared key', () => {
    const h = new HistoryBuilder();
    h.send(as('alice'), {
      status: 201,
      body: payment('pay_a'),
      headers: [['location', '/payments/pay_a']],
    });
    h.send(as('bob'), {
      status: 201,
      body: payment('pay_b'),
      headers: [['location', '/payments/pay_b']],
    });
    h.send(as('alice'), {
      status: 201,
      body: payment('pay_a'),
      headers: [['location', '/payments/pay_a']],
    });
    expect(tenantIsolation(h.history(), context)).toMatchObject({ valid: true, checked: 1 });
  });

  it("reports a tenant that received another tenant's response", () => {
    const h = new HistoryBuilder();
    const alice = h.send(as('alice'), { status: 201, body: payment('pay_a') });
    const bob = h.send(as('bob'), { status: 201, body: payment('pay_a') });
    const anomaly = onlyAnomaly(tenantIsolation(h.history(), context), 'cross-tenant-replay');
    expect(anomaly).toMatchObject({ kind: 'cross-tenant-replay', key: 'k-shared', tenant: 'bob' });
    expect(anomaly.message).toMatch(
      /^Tenant bob received tenant alice's response for key 'k-shared': tenant bob got 201 with the same bytes/,
    );
    expect(anomaly.events).toEqual([alice.index, alice.index + 1, bob.index, bob.index + 1]);
    expect(anomaly.curl).toContain("-H 'x-tenant: bob'");
  });

  it('reports the same Location for two tenants, and counts the default tenant as one', () => {
    const h = new HistoryBuilder();
    h.send(as(null), {
      status: 201,
      body: payment('pay_a'),
      headers: [['location', '/payments/pay_a']],
    });
    h.send(as('bob'), {
      status: 201,
      body: payment('pay_b'),
      headers: [['location', '/payments/pay_a']],
    });
    const anomaly = onlyAnomaly(tenantIsolation(h.history(), context), 'cross-tenant-replay');
    expect(anomaly.message).toMatch(
      /^Tenant bob received the default tenant's response for key 'k-shared': both got Location/,
    );
  });

  it('is unknown when bodies do not identify an operation (same body for two keys of one tenant)', () => {
    const h = new HistoryBuilder();
    h.send(as('alice'), { status: 201, body: { status: 'ok' } });
    h.send(as('bob'), { status: 201, body: { status: 'ok' } });
    h.send(as('alice', 'k-control'), { status: 201, body: { status: 'ok' } });
    const result = tenantIsolation(h.history(), context);
    expect(result.valid).toBe('unknown');
    expect(result.notes[0]).toContain('here bodies do not identify an operation');
  });

  it('still counts the same Location when bodies do not identify an operation', () => {
    const h = new HistoryBuilder();
    const generic = {
      status: 201,
      body: { status: 'ok' },
      headers: [['location', '/payments/1']] as const,
    };
    h.send(as('alice'), generic);
    h.send(as('bob'), generic);
    h.send(as('alice', 'k-control'), { ...generic, headers: [['location', '/payments/2']] });
    const anomaly = onlyAnomaly(tenantIsolation(h.history(), context), 'cross-tenant-replay');
    expect(anomaly.actual).toBe("both got Location '/payments/1'");
  });

  it('never takes an empty body as evidence', () => {
    const h = new HistoryBuilder();
    h.send(as('alice'), { status: 204, body: '' });
    h.send(as('bob'), { status: 204, body: '' });
    expect(tenantIsolation(h.history(), context).valid).toBe(true);
  });

  it('is not applicable when no key is shared by two tenants', () => {
    const h = new HistoryBuilder();
    h.send(as('alice', 'k-1'), { status: 201, body: payment('pay_a') });
    h.send(as('bob', 'k-2'), { status: 201, body: payment('pay_b') });
    expect(tenantIsolation(h.history(), context)).toMatchObject({
      valid: true,
      checked: 0,
      notes: ['not applicable: no key was used by two tenants'],
    });
  });
});
