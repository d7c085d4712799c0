import { describe, expect, inject, it } from 'vitest';
import { ToxiproxyApi } from '../../../src/nemesis/toxiproxy-api.js';
import { runBuiltInSuite } from '../../support/suite.js';

describe('the built-in suite against the correct demo target', () => {
  it('holds every check, with every pattern run through real fault lanes, and leaves no proxy behind', async () => {
    const run = await runBuiltInSuite('none');
    const { result, history } = run;
    const problems = result.scenarios.flatMap((scenario) => [
      ...(scenario.error === null ? [] : [`${scenario.name}: ${scenario.error.message}`]),
      ...scenario.checks
        .filter((check) => check.valid !== true)
        .map(
          (check) =>
            `${scenario.name} › ${check.checker}: ${String(check.valid)} ${check.anomalies.map((anomaly) => anomaly.message).join(' | ')} ${check.notes.join(' ')}`,
        ),
    ]);
    expect(problems).toEqual([]);
    expect(result.valid).toBe(true);

    // Every pattern ran, and the faults really happened.
    const kinds = new Set(
      result.scenarios.flatMap((scenario) => scenario.patterns.map((pattern) => pattern.kind)),
    );
    expect([...kinds].sort()).toEqual([
      'concurrent-burst',
      'cross-tenant',
      'delayed-retries',
      'dependency-fault',
      'distinct-keys',
      'lost-request',
      'lost-response',
      'missing-key',
      'out-of-order',
      'payload-mismatch',
      'sequential-duplicates',
      'slow-timeout',
      'steps',
    ]);
    const outcomes = new Map<string, number>();
    for (const event of history)
      if (event.type === 'ok' || event.type === 'fail' || event.type === 'info')
        outcomes.set(event.type, (outcomes.get(event.type) ?? 0) + 1);
    expect(outcomes.get('info')).toBeGreaterThan(0);
    expect(outcomes.get('fail')).toBeGreaterThan(0);
    expect(
      history
        .filter((event) => event.type === 'fault')
        .map((event) => event.type === 'fault' && event.lane),
    ).toEqual(
      expect.arrayContaining(['lost-response', 'lost-request', 'blackhole', 'slow-request']),
    );
    // Every check that applies was checked, none was left "not applicable" across the suite.
    const checked = new Map<string, number>();
    for (const scenario of result.scenarios)
      for (const check of scenario.checks)
        checked.set(check.checker, (checked.get(check.checker) ?? 0) + check.checked);
    for (const [checker, count] of checked) expect(count, checker).toBeGreaterThan(0);

    const proxies = await new ToxiproxyApi(inject('toxiproxyUrl')).listProxies();
    expect(result.proxyPrefix).toMatch(/^idemproof_[0-9a-f]{8}$/);
    expect(proxies.filter((proxy) => proxy.name.startsWith(result.proxyPrefix))).toEqual([]);
  });
});
