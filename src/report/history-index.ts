import {
  attemptsOf,
  type Attempt,
  type DependencyEvent,
  type DownstreamEvent,
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
  /**
   * Probe readings, the key's own hooks (per-key setup and teardown) and the target's calls to
   * the downstream for it (by the token it called), in order.
   */
  readonly probesByKey: ReadonlyMap<string, readonly (ProbeEvent | HookEvent | DownstreamEvent)[]>;
  /** durationMs of attempts that got a response. */
  readonly okDurations: readonly number[];
  /** Dependency faults held, in order: each from its fault event to its heal (if recorded). */
  readonly dependencyWindows: readonly DependencyWindow[];
}

/** A fault held in one of the target's dependencies. */
export interface DependencyWindow {
  readonly fault: DependencyEvent;
  /** Undefined when the run ended (or was cut) before the heal was recorded. */
  readonly heal: DependencyEvent | undefined;
}

/** The dependency faults held when `time` came (an attempt's invoke, say). */
export function dependencyFaultsAt(
  windows: readonly DependencyWindow[],
  time: number,
): DependencyWindow[] {
  return windows.filter(
    (window) =>
      window.fault.time <= time && (window.heal === undefined || time <= window.heal.time),
  );
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
  dependencyWindows: [],
};

interface MutableScenario {
  attempts: Attempt[];
  byKey: Map<string, Attempt[]>;
  probesByKey: Map<string, (ProbeEvent | HookEvent | DownstreamEvent)[]>;
  okDurations: number[];
  dependencyWindows: { fault: DependencyEvent; heal: DependencyEvent | undefined }[];
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
      entry = {
        attempts: [],
        byKey: new Map(),
        probesByKey: new Map(),
        okDurations: [],
        dependencyWindows: [],
      };
      scenarios.set(name, entry);
    }
    return entry;
  };
  for (const event of history) {
    byIndex.set(event.index, event);
    if ((event.type === 'probe' || event.type === 'hook') && event.key !== null) {
      push(scenarioOf(event.scenario).probesByKey, event.key, event);
    }
    if (event.type === 'downstream')
      push(scenarioOf(event.scenario).probesByKey, event.token, event);
    if (event.type === 'ok') scenarioOf(event.scenario).okDurations.push(event.durationMs);
    if (event.type === 'dependency-fault')
      scenarioOf(event.scenario).dependencyWindows.push({ fault: event, heal: undefined });
    if (event.type === 'dependency-heal') {
      const open = scenarioOf(event.scenario).dependencyWindows.find(
        (window) =>
          window.heal === undefined &&
          window.fault.dependency === event.dependency &&
          window.fault.pattern === event.pattern,
      );
      if (open !== undefined) open.heal = event;
    }
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
