import { describe, expect, it } from 'vitest';
import { replayIdenticalResponses } from '../../../src/check/replay-identical.js';
import { overrideProfile, PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';
import { onlyAnomaly } from './expect-anomaly.js';

const reExecute = { profile: overrideProfile(PROFILES.default, { firstAttempt5xx: 're-execute' }) };
const either = { profile: PROFILES.default };
const failure = { status: 500, body: { title: 'Payment provider failed', id: 'err_1' } };
const replayedFailure = { ...failure, headers: [['Idempotent-Replayed', 'true']] as const };

describe("firstAttempt5xx: 're-execute'", () => {
  it('reports a retry that gets the first 5xx replayed', () => {
    const h = new HistoryBuilder();
    const original = h.send({ label: 'original' }, failure);
    const retry = h.send({ label: 'retry 1' }, replayedFailure);
    const anomaly = onlyAnomaly(
      replayIdenticalResponses(h.history(), reExecute),
      'server-error-replayed',
    );
    expect(anomaly.events).toEqual(expect.arrayContaining([original.index, retry.index]));
    expect(anomaly.message).toContain('firstAttempt5xx: re-execute');
    // 'either' (the default) accepts the same history.
    expect(replayIdenticalResponses(h.history(), either).valid).toBe(true);
  });

  it('holds when the retry runs the operation again', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, failure);
    h.send({ label: 'retry 1' }, { status: 201, body: payment('pay_1') });
    h.send(
      { label: 'retry 2' },
      { status: 201, body: payment('pay_1'), headers: [['Idempotent-Replayed', 'true']] },
    );
    expect(replayIdenticalResponses(h.history(), reExecute)).toMatchObject({ valid: true });
  });

  it('holds when a retry fails anew with another error', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, failure);
    h.send({ label: 'retry 1' }, { status: 502, body: { title: 'Bad gateway' } });
    expect(replayIdenticalResponses(h.history(), reExecute).valid).toBe(true);
  });

  it('is unknown when an identical 5xx comes back without a replay marker', () => {
    const h = new HistoryBuilder();
    h.send({ label: 'original' }, failure);
    h.send({ label: 'retry 1' }, failure);
    const result = replayIdenticalResponses(h.history(), reExecute);
    expect(result).toMatchObject({ valid: 'unknown', anomalies: [] });
    expect(result.notes.join(' ')).toContain('cannot be told apart');
  });
});
