import {
  attemptsOf,
  type Attempt,
  type HistoryEvent,
  type HookEvent,
  type ProbeEvent,
} from '../history/events.js';

/**
 * Lookups over a run's history for the HTML report, built in one pass each: events by index,
 * attempts by op, and per scenario its attempts by key, probes by key and response times.
 */

export interface ScenarioHistory {
  /** In invoke order. */
  readonly attempts: readonly Attempt[];
  readonly byKey: ReadonlyMap<string, readonly Attempt[]>;
  /** Probe readings and the key's own hooks (per-key setup and teardown), in order. */
  readonly probesByKey: ReadonlyMap<string, readonly (ProbeEvent | HookEvent)[]>;
  /** durationMs of attempts that got a response. */
  readonly okDurations: readonly number[];
}

export interface HistoryIndex {
  readonly byIndex: ReadonlyMap<number, HistoryEvent>;
  readonly attemptByOp: ReadonlyMap<string, Attempt>;
  readonly lanes: readonly string[];
  scenario(name: string): ScenarioHistory;
}

const EMPTY: ScenarioHistory = {
  attempts: [],
  byKey: new Map(),
  probesByKey: new Map(),
  okDurations: [],
};

interface MutableScenario {
  attempts: Attempt[];
  byKey: Map<string, Attempt[]>;
  probesByKey: Map<string, (ProbeEvent | HookEvent)[]>;
  okDurations: number[];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

export function indexHistory(history: readonly HistoryEvent[]): HistoryIndex {
  const byIndex = new Map<number, HistoryEvent>();
  const scenarios = new Map<string, MutableScenario>();
  const lanes: string[] = [];
  const seenLanes = new Set<string>();
  const scenarioOf = (name: string): MutableScenario => {
    let entry = scenarios.get(name);
    if (entry === undefined) {
      entry = { attempts: [], byKey: new Map(), probesByKey: new Map(), okDurations: [] };
      scenarios.set(name, entry);
    }
    return entry;
  };
  for (const event of history) {
    byIndex.set(event.index, event);
    if ((event.type === 'probe' || event.type === 'hook') && event.key !== null) {
      push(scenarioOf(event.scenario).probesByKey, event.key, event);
    }
    if (event.type === 'ok') scenarioOf(event.scenario).okDurations.push(event.durationMs);
    const lane = event.type === 'invoke' || event.type === 'fault' ? event.lane : null;
    if (lane !== null && !seenLanes.has(lane)) {
      seenLanes.add(lane);
      lanes.push(lane);
    }
  }
  const attemptByOp = new Map<string, Attempt>();
  for (const attempt of attemptsOf(history)) {
    attemptByOp.set(attempt.invoke.op, attempt);
    const entry = scenarioOf(attempt.invoke.scenario);
    entry.attempts.push(attempt);
    if (attempt.invoke.key !== null) push(entry.byKey, attempt.invoke.key, attempt);
  }
  return {
    byIndex,
    attemptByOp,
    lanes,
    scenario: (name) => scenarios.get(name) ?? EMPTY,
  };
}
