import { describe, expect, it } from 'vitest';
import { keyNotStuck } from '../../../src/check/liveness.js';
import { overrideProfile, PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

/** The default profile allows 5 s in progress; these tests state it to be independent of it. */
const profile = overrideProfile(PROFILES.default, { inProgressTimeoutMs: 10_000 });
const context = { profile };
const busy = { status: 409, body: { title: 'Request in progress' } };

describe('keyNotStuck', () => {
  it('reports a 409 in progress long after the last attempt started', () => {
    const h = new HistoryBuilder();
    const original = h.timedOut({ label: 'original' });
    h.advance(12_300);
    h.send({ label: 'follow-up' }, busy);
    const anomaly = onlyAnomaly(keyNotStuck(h.history(), context), 'key-stuck-in-progress');
    expect(anomaly.message).toContain(
      "Key 'k-1' answered 409 in progress 12.3 s after its last attempt started",
    );
    expect(anomaly.message).toContain('the profile allows 10 s');
    expect(anomaly.events).toContain(original.index);
    expect(anomaly.curl).toContain('curl');
  });

  it('measures from the last attempt that may hold the key, not from its first', () => {
    // A 500 then 409s forever: the 500 was the last attempt not refused as in progress.
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 500, body: { title: 'boom' } });
    h.advance(4000);
    h.send({ label: 'retry 1' }, busy);
    h.advance(7000);
    h.send({ label: 'follow-up' }, busy);
    const anomaly = onlyAnomaly(keyNotStuck(h.history(), context), 'key-stuck-in-progress');
    expect(anomaly.actual).toMatch(/'follow-up' \(lane clean\) → 409, 11 s after 'original'/);
  });

  it('holds when the key answers in progress within the allowed time, then the result', () => {
    const h = new HistoryBuilder();
    h.timedOut({ label: 'original' });
    h.advance(3000);
    h.send({ label: 'retry 1' }, busy);
    h.advance(3000);
    h.send({ label: 'retry 2' }, { status: 201, body: payment('pay_1') });
    expect(keyNotStuck(h.history(), context)).toMatchObject({ valid: true, checked: 1 });
  });

  it('does not judge refusals of a burst sent while the key was being processed', () => {
    const h = new HistoryBuilder();
    const a = h.invoke({ group: 'burst-1', patternKind: 'concurrent-burst' });
    const b = h.invoke({ group: 'burst-1', patternKind: 'concurrent-burst' });
    h.ok(b, busy);
    h.ok(a, { status: 201, body: payment('pay_1') });
    expect(keyNotStuck(h.history(), context)).toMatchObject({ valid: true, checked: 1 });
  });

  it('ignores the refusal of a different payload, which may share the status 409', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 201, body: payment('pay_1') });
    h.advance(20_000);
    h.send({ label: 'different', variant: 'different' }, busy);
    expect(keyNotStuck(h.history(), context).valid).toBe(true);
  });

  it('is unknown when the last answer was in progress and nothing was asked after the timeout', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, { status: 500, body: { title: 'boom' } });
    h.advance(2000);
    h.send({ label: 'retry 1' }, busy);
    const result = keyNotStuck(h.history(), context);
    expect(result).toMatchObject({ valid: 'unknown', anomalies: [] });
    expect(result.notes.join(' ')).toContain('nothing was asked after the 10 s');
  });

  it('reports 5xx and in-progress answers without end after an unknown outcome and no effect', () => {
    const h = new HistoryBuilder();
    h.lost({ label: 'original' });
    h.advance(3000);
    h.send({ label: 'retry 1' }, { status: 503, body: { title: 'busy store' } });
    h.advance(4000);
    h.send({ label: 'retry 2' }, busy);
    h.advance(4000);
    h.send({ label: 'retry 3' }, { status: 503, body: { title: 'busy store' } });
    h.effects(0);
    const anomaly = onlyAnomaly(
      keyNotStuck(h.history(), context),
      'key-stuck-after-unknown-outcome',
    );
    expect(anomaly.message).toContain('0 effects');
    // With an effect, the work was done: not stuck.
    const done = new HistoryBuilder();
    done.lost({ label: 'original' });
    done.advance(3000);
    done.send({ label: 'retry 1' }, busy);
    done.advance(9000);
    done.send({ label: 'retry 2' }, { status: 503, body: { title: 'busy store' } });
    done.effects(1);
    expect(keyNotStuck(done.history(), context).valid).not.toBe(false);
  });

  it('judges nothing without an inProgressTimeoutMs, and says so', () => {
    const h = new HistoryBuilder();
    h.timedOut({ label: 'original' });
    h.advance(60_000);
    h.send({ label: 'retry' }, busy);
    const result = keyNotStuck(h.history(), {
      profile: overrideProfile(PROFILES.default, { inProgressTimeoutMs: null }),
    });
    expect(result).toMatchObject({ valid: true, checked: 0 });
    expect(result.notes.join(' ')).toContain('inProgressTimeoutMs');
  });

  it('every built-in profile declares an in-progress timeout', () => {
    for (const builtIn of Object.values(PROFILES))
      expect(builtIn.inProgressTimeoutMs, builtIn.name).toBeGreaterThan(0);
  });
});
