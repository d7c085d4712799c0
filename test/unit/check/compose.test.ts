import { describe, expect, it } from 'vitest';
import { runChecks, validityOfChecks } from '../../../src/check/compose.js';
import { DEFAULT_CHECKERS } from '../../../src/check/index.js';
import type { Checker } from '../../../src/check/types.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { HistoryBuilder, payment } from './history-builder.js';

const context = { profile: PROFILES.default };

describe('runChecks', () => {
  it('runs every default checker, in a fixed order, each naming its result', () => {
    const results = runChecks(new HistoryBuilder().history(), context);
    expect(results.map((result) => result.checker)).toEqual([
      'effectsPerKey',
      'replayIdenticalResponses',
      'conflictOnMismatch',
      'inFlightDuplicates',
      'keyNotStuck',
      'missingKeyRefused',
      'refusalContents',
      'tenantIsolation',
      'outOfOrderFinalState',
      'distinctKeysDistinctEffects',
      'stepExpectations',
      'downstreamEffectsPerKey',
      'forwardedKeyStable',
      'failClosed',
    ]);
    expect(Object.keys(DEFAULT_CHECKERS)).toEqual(results.map((result) => result.checker));
    for (const result of results) {
      expect(result).toMatchObject({ valid: true, checked: 0, anomalies: [] });
      expect(result.notes).toHaveLength(1);
      expect(result.notes[0]).toMatch(/^not applicable: /);
    }
  });

  it('isolates a crashing checker: unknown with a note, and the others still run', () => {
    const h = new HistoryBuilder();
    h.send({}, { status: 201, body: payment('pay_1') });
    h.send({}, { status: 201, body: payment('pay_1') });
    h.effects(2);
    const crashing: Checker = () => {
      throw new TypeError("Cannot read properties of undefined (reading 'status')");
    };
    const nothing = (() => undefined) as unknown as Checker;
    const results = runChecks(h.history(), context, {
      first: DEFAULT_CHECKERS.replayIdenticalResponses,
      crashing,
      nothing,
      effects: DEFAULT_CHECKERS.effectsPerKey,
    });
    expect(results.map((r) => [r.checker, r.valid])).toEqual([
      ['first', true],
      ['crashing', 'unknown'],
      ['nothing', 'unknown'],
      ['effects', false],
    ]);
    expect(results[1]?.notes[0]).toBe(
      "checker crashed: TypeError: Cannot read properties of undefined (reading 'status'). This is a bug in idemproof, not in your API; please report it with the run's history file.",
    );
    expect(results[2]?.notes[0]).toMatch(/^checker crashed: Error: it returned no result/);
    expect(validityOfChecks(results)).toBe(false);
    expect(validityOfChecks(results.slice(0, 3))).toBe('unknown');
  });

  it('never throws on odd histories: a completion without invoke, an event of an unknown type', () => {
    const h = new HistoryBuilder();
    const invoke = h.send({}, { status: 201, body: payment('pay_1') });
    const odd = [
      ...h.history(),
      { ...h.events[1], op: 'nobody', index: 2 },
      { index: 3, time: 1, scenario: 'payments', type: 'weird' },
      { ...invoke, index: 4, request: undefined },
    ] as unknown as typeof h.events;
    const results = runChecks(odd, context);
    expect(results).toHaveLength(Object.keys(DEFAULT_CHECKERS).length);
    for (const result of results) expect(['unknown', true, false]).toContain(result.valid);
  });
});
