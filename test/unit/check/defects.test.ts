import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/check/compose.js';
import {
  defectTitle,
  groupDefects,
  mergeDefects,
  severityRank,
} from '../../../src/check/defects.js';
import type { Anomaly, CheckResult } from '../../../src/check/types.js';
import type { PatternPlan } from '../../../src/plan/schedule.js';
import { basePatternId, repeatPlans, repetitionRun } from '../../../src/plan/repeat.js';
import { showingOrder } from '../../../src/report/defect-view.js';
import { buildHistory, goodHistory } from './history-arbitrary.js';
import { HistoryBuilder, payment } from './history-builder.js';

function anomaly(
  kind: string,
  key: string | null,
  events: readonly number[],
  tenant: string | null = null,
): Anomaly {
  return {
    kind,
    key,
    tenant,
    events,
    expected: 'one',
    actual: 'two',
    message: `${kind} ${key}`,
  };
}

function failed(checker: string, anomalies: readonly Anomaly[]): CheckResult {
  return { checker, valid: false, checked: anomalies.length, anomalies, notes: [] };
}

const created = (id: string) => ({ status: 201, body: JSON.stringify(payment(id)) });

/** Two attempts of `key` in `pattern` on `lane` answered `first` then `second`; their events. */
function pair(
  h: HistoryBuilder,
  key: string,
  pattern: string,
  lane: string,
  statuses: readonly [number, number | 'lost'],
): number[] {
  const kind = basePatternId(pattern).replace(/#\d+$/, '') as 'concurrent-burst';
  const spec = { key, pattern, patternKind: kind, lane };
  const a = h.send(spec, { ...created(`p-${key}`), status: statuses[0] });
  const b = h.invoke(spec);
  if (statuses[1] === 'lost') h.info(b);
  else h.ok(b, { ...created(`p-${key}-2`), status: statuses[1] });
  return [a.index, b.index];
}

describe('grouping violations into defects', () => {
  it('groups symptoms by check, kind, pattern kind, lanes and statuses (2xx as one), and titles each', () => {
    const h = new HistoryBuilder();
    const one = pair(h, 'k-1', 'concurrent-burst#1', 'clean', [200, 200]);
    const two = pair(h, 'k-2', 'concurrent-burst#1', 'clean', [201, 201]);
    const three = pair(h, 'k-3', 'concurrent-burst#1', 'lost-response', [201, 'lost']);
    const four = pair(h, 'k-4', 'concurrent-burst#1', 'clean', [201, 409]);
    const five = pair(h, 'k-5', 'concurrent-burst#1', 'clean', [201, 422]);
    const defects = groupDefects({
      checks: [
        failed('effectsPerKey', [
          anomaly('duplicate-effect', 'k-1', one),
          anomaly('duplicate-effect', 'k-2', two),
          anomaly('duplicate-effect', 'k-3', three),
          anomaly('duplicate-effect', 'k-4', four),
          anomaly('duplicate-effect', 'k-5', five),
        ]),
        failed('replayIdentical', [anomaly('replay-body-differs', 'k-1', one)]),
        { checker: 'tenantIsolation', valid: true, checked: 3, anomalies: [], notes: [] },
      ],
      history: h.history(),
    });
    expect(
      defects.map((defect) => [
        defect.title,
        defect.count,
        defect.symptoms.map((symptom) => [symptom.title, symptom.count]),
      ]),
    ).toEqual([
      [
        'duplicate effect under concurrent-burst on the clean lane: 2xx + 2xx',
        3,
        [
          ['duplicate effect under concurrent-burst on the clean lane: 2xx + 2xx', 2],
          ['replay body differs under concurrent-burst on the clean lane: 2xx + 2xx', 1],
        ],
      ],
      [
        'duplicate effect under concurrent-burst on the lost-response lane: 2xx + no answer',
        1,
        [['duplicate effect under concurrent-burst on the lost-response lane: 2xx + no answer', 1]],
      ],
      [
        'duplicate effect under concurrent-burst on the clean lane: 2xx + 409',
        1,
        [['duplicate effect under concurrent-burst on the clean lane: 2xx + 409', 1]],
      ],
      [
        'duplicate effect under concurrent-burst on the clean lane: 2xx + 422',
        1,
        [['duplicate effect under concurrent-burst on the clean lane: 2xx + 422', 1]],
      ],
    ]);
    const [first] = defects;
    expect(first?.first.key).toBe('k-1');
    expect(first?.symptoms[0]?.others).toEqual([
      { key: 'k-2', tenant: null, pattern: 'concurrent-burst#1', events: two },
    ]);
    expect(first?.id).toBe('effectsPerKey|duplicate-effect|concurrent-burst|clean|2xx + 2xx');
    expect(first?.symptoms[1]?.id).toBe(
      'replayIdentical|replay-body-differs|concurrent-burst|clean|2xx + 2xx',
    );
    expect(first?.reproduced).toEqual({ runs: 1, of: 1, patterns: ['concurrent-burst#1'] });
  });

  it('links symptoms seen on a common tenant and key, and leads each defect by its most severe', () => {
    // Two flaws: duplicates with changed replays on k-1/k-2, and a wrong mismatch status on k-8.
    const defects = groupDefects({
      checks: [
        failed('replayIdentical', [
          anomaly('replay-body-differs', 'k-2', [1]),
          anomaly('replay-body-differs', 'k-3', [2]),
          anomaly('replay-header-differs', 'k-1', [3], 't2'),
        ]),
        failed('effectsPerKey', [
          anomaly('duplicate-effect', 'k-1', [4]),
          anomaly('duplicate-effect', 'k-2', [5]),
        ]),
        failed('conflictOnMismatch', [anomaly('mismatch-wrong-status', 'k-8', [6])]),
        failed('keyNotStuck', [
          anomaly('key-stuck-in-progress', null, [7]),
          anomaly('mystery', null, [8]),
        ]),
        failed('inFlightDuplicates', [anomaly('in-flight-second-execution', 'k-3', [9])]),
      ],
    });
    expect(
      defects.map((defect) => [
        defect.signature.kind,
        defect.count,
        defect.symptoms.map((symptom) => `${symptom.signature.kind} ${symptom.count}`),
      ]),
    ).toEqual([
      [
        'duplicate-effect',
        5,
        ['duplicate-effect 2', 'in-flight-second-execution 1', 'replay-body-differs 2'],
      ],
      ['replay-header-differs', 1, ['replay-header-differs 1']],
      ['mismatch-wrong-status', 1, ['mismatch-wrong-status 1']],
      ['key-stuck-in-progress', 1, ['key-stuck-in-progress 1']],
      ['mystery', 1, ['mystery 1']],
    ]);
    expect(defects[0]?.first.key).toBe('k-1');
    expect(defects[0]?.title).toBe('duplicate effect');
    expect(defects.reduce((sum, defect) => sum + defect.count, 0)).toBe(9);
  });

  it('leads by kind, then by the larger count', () => {
    const defects = groupDefects({
      checks: [
        failed('replayIdentical', [
          anomaly('replay-header-differs', 'k-1', [1]),
          anomaly('replay-body-differs', 'k-1', [2]),
          anomaly('replay-body-differs', 'k-2', [3]),
          anomaly('mystery', 'k-2', [4]),
        ]),
        failed('other', [anomaly('replay-body-differs', 'k-2', [5])]),
      ],
    });
    expect(defects).toHaveLength(1);
    expect(defects[0]?.symptoms.map((symptom) => symptom.id)).toEqual([
      'replayIdentical|replay-body-differs|-|-|-',
      'other|replay-body-differs|-|-|-',
      'replayIdentical|replay-header-differs|-|-|-',
      'replayIdentical|mystery|-|-|-',
    ]);
  });

  it('names several lanes, and stays generic without a history', () => {
    expect(
      defectTitle({
        checker: 'x',
        kind: 'stuck_key',
        patternKind: 'lost-response',
        lanes: 'blackhole+clean+lost-response',
        statuses: '500 + 409',
      }),
    ).toBe(
      'stuck key under lost-response on the blackhole, clean and lost-response lanes: 500 + 409',
    );
    const defects = groupDefects({
      checks: [failed('anyNewChecker', [anomaly('odd', 'a', [1]), anomaly('odd', 'b', [2])])],
    });
    expect(defects).toHaveLength(1);
    expect(defects[0]?.title).toBe('odd');
    expect(defects[0]?.reproduced).toBeNull();
  });

  it('counts reproduction per pattern run across repetitions', () => {
    const h = new HistoryBuilder();
    const runs = ['concurrent-burst#1', 'concurrent-burst#1@2', 'concurrent-burst#1@3'];
    const events = runs.map((pattern, index) =>
      pair(h, `k-${index}`, pattern, 'clean', [201, 201]),
    );
    const defects = groupDefects({
      checks: [
        failed('effectsPerKey', [
          anomaly('duplicate-effect', 'k-0', events[0] ?? []),
          anomaly('duplicate-effect', 'k-2', events[2] ?? []),
        ]),
      ],
      history: h.history(),
    });
    expect(defects[0]?.reproduced).toEqual({ runs: 2, of: 3, patterns: ['concurrent-burst#1'] });
  });

  it('merges defects with the same lead across scenarios, and their symptoms by signature', () => {
    const h = new HistoryBuilder();
    const events = pair(h, 'k-1', 'concurrent-burst#1', 'clean', [201, 201]);
    const a = groupDefects({
      checks: [failed('effectsPerKey', [anomaly('duplicate-effect', 'k-1', events)])],
      history: h.history(),
    });
    const b = groupDefects({
      checks: [
        failed('effectsPerKey', [anomaly('duplicate-effect', 'k-1', events)]),
        failed('replayIdentical', [anomaly('replay-body-differs', 'k-1', events)]),
      ],
      history: h.history(),
    });
    const merged = mergeDefects([
      { scenario: 'a', defects: a },
      { scenario: 'b', defects: b },
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.count).toBe(3);
    expect(merged[0]?.scenarios).toEqual(['a', 'b']);
    expect(merged[0]?.symptoms.map((symptom) => [symptom.count, symptom.scenarios])).toEqual([
      [2, ['a', 'b']],
      [1, ['b']],
    ]);
    expect(merged[0]?.symptoms[0]?.others[0]?.scenario).toBe('b');
    expect(merged[0]?.symptoms[1]?.others).toEqual([]);
    expect(merged[0]?.reproduced).toEqual({ runs: 2, of: 2, patterns: ['concurrent-burst#1'] });
    expect(merged[0]?.symptoms[0]?.reproduced).toEqual({
      runs: 2,
      of: 2,
      patterns: ['concurrent-burst#1'],
    });
  });

  it('never loses a violation: counts sum to the violations, each one listed once', () => {
    const broken = goodHistory.chain((good) =>
      fc.record({
        good: fc.constant(good),
        effects: fc.array(fc.tuple(fc.nat({ max: 5 }), fc.integer({ min: 0, max: 4 })), {
          maxLength: 4,
        }),
        mutate: fc.option(
          fc.record({
            key: fc.nat({ max: 5 }),
            response: fc.integer({ min: 1, max: 3 }),
            at: fc.nat({ max: 200 }),
          }),
          { nil: undefined },
        ),
      }),
    );
    fc.assert(
      fc.property(broken, ({ good, effects, mutate }) => {
        const history = buildHistory(good, { effects: new Map(effects), mutate });
        const checks = runChecks(history, { profile: good.profile });
        const defects = groupDefects({ checks, history });
        const violations = checks
          .filter((check) => check.valid === false)
          .flatMap((check) =>
            check.anomalies.map(
              (one) => `${check.checker}:${one.key}:${one.events.join(',')}:${one.kind}`,
            ),
          );
        const symptoms = defects.flatMap((defect) => defect.symptoms);
        const listed = symptoms.flatMap((symptom) => [
          `${symptom.signature.checker}:${symptom.first.key}:${symptom.first.events.join(',')}:${symptom.first.kind}`,
          ...symptom.others.map(
            (other) =>
              `${symptom.signature.checker}:${other.key}:${other.events.join(',')}:${symptom.signature.kind}`,
          ),
        ]);
        expect(defects.reduce((sum, defect) => sum + defect.count, 0)).toBe(violations.length);
        expect([...listed].sort()).toEqual([...violations].sort());
        expect(new Set(defects.map((defect) => defect.id)).size).toBe(defects.length);
        expect(new Set(symptoms.map((symptom) => symptom.id)).size).toBe(symptoms.length);
        const keyOwner = new Map<string, string>();
        for (const defect of defects) {
          const [lead] = defect.symptoms;
          expect(defect.id).toBe(lead?.id);
          expect(defect.first).toBe(lead?.first);
          expect(defect.count).toBe(defect.symptoms.reduce((sum, one) => sum + one.count, 0));
          for (const symptom of defect.symptoms) {
            expect(symptom.count).toBe(1 + symptom.others.length);
            expect(severityRank(symptom.signature.kind)).toBeGreaterThanOrEqual(
              severityRank(defect.signature.kind),
            );
            // A (tenant, key) belongs to one defect only.
            for (const ref of [symptom.first, ...symptom.others]) {
              if (ref.key === null) continue;
              const name = JSON.stringify([ref.tenant, ref.key]);
              expect(keyOwner.get(name) ?? defect.id).toBe(defect.id);
              keyOwner.set(name, defect.id);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('showing order', () => {
  it('shows one defect of each check and lead kind in turn, the most severe kind first', () => {
    const h = new HistoryBuilder();
    const burst = pair(h, 'k-1', 'concurrent-burst#1', 'clean', [201, 201]);
    const lost = pair(h, 'k-2', 'concurrent-burst#1', 'lost-response', [201, 'lost']);
    const replay = pair(h, 'k-3', 'concurrent-burst#1', 'clean', [201, 201]);
    const mismatch = pair(h, 'k-4', 'concurrent-burst#1', 'clean', [201, 201]);
    const defects = groupDefects({
      checks: [
        failed('effectsPerKey', [
          anomaly('duplicate-effect', 'k-1', burst),
          anomaly('duplicate-effect', 'k-2', lost),
        ]),
        failed('replayIdentical', [anomaly('replay-body-differs', 'k-3', replay)]),
        failed('conflictOnMismatch', [anomaly('mismatch-accepted', 'k-4', mismatch)]),
      ],
      history: h.history(),
    });
    expect(defects.map((defect) => defect.first.key)).toEqual(['k-1', 'k-2', 'k-3', 'k-4']);
    expect(
      showingOrder(defects).map((defect) => [defect.signature.kind, defect.first.key]),
    ).toEqual([
      ['duplicate-effect', 'k-1'],
      ['mismatch-accepted', 'k-4'],
      ['replay-body-differs', 'k-3'],
      ['duplicate-effect', 'k-2'],
    ]);
  });
});

describe('--repeat plans', () => {
  const plan = (run: string): PatternPlan[] => [
    {
      id: 'concurrent-burst#1',
      kind: 'concurrent-burst',
      name: 'burst',
      headers: {},
      operations: [
        {
          ref: 0,
          key: `k-${run}`,
          marker: run,
          payload: {},
          differentPayload: {},
          resource: null,
          sequence: null,
        },
      ],
      steps: [],
      notes: [],
    },
  ];

  it('makes the plan once per repetition, with fresh keys and distinct pattern ids', () => {
    const plans = repeatPlans(3, 'ab12', plan);
    expect(plans.map((one) => one.id)).toEqual([
      'concurrent-burst#1',
      'concurrent-burst#1@2',
      'concurrent-burst#1@3',
    ]);
    const keys = plans.map((one) => one.operations[0]?.key);
    expect(new Set(keys).size).toBe(3);
    expect(keys[0]).toBe('k-ab12');
    expect(repetitionRun('ab12', 2)).toBe('ab12r2');
    expect(plans.map((one) => basePatternId(one.id))).toEqual(Array(3).fill('concurrent-burst#1'));
    expect(repeatPlans(1, 'ab12', plan)).toEqual(plan('ab12'));
  });
});
