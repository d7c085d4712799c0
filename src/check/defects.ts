import type { HistoryEvent, InvokeEvent, PatternKind } from '../history/events.js';
import { basePatternId } from '../plan/repeat.js';
import type { Anomaly, CheckResult } from './types.js';
import { listWithMore } from './wording.js';

/**
 * Groups the violations of a scenario into distinct defects. Violations share a defect when
 * they share a signature: the check, the anomaly's kind, the kind of pattern its attempts
 * belong to, the fault lanes they went through and the statuses they got (the first answer's,
 * then the others'). One bug that shows in 160 keys becomes one defect with a count, its first
 * example in full and the others as references; how often it reproduced is counted per
 * pattern run (all repetitions of a `--repeat` run included).
 *
 * Pure and generic: it reads only the anomalies and the history events they name, never a
 * checker's wording, so the anomalies of any checker group the same way. It never drops or
 * invents a violation: the counts of a scenario's defects sum to its violations.
 */

export interface DefectSignature {
  readonly checker: string;
  /** The anomaly's kind, e.g. "duplicate-effect". */
  readonly kind: string;
  /** The kind of pattern the anomaly's attempts or probes belong to; null when none is named. */
  readonly patternKind: PatternKind | null;
  /** The fault lanes of its attempts, sorted and joined by "+"; null when it names no attempt. */
  readonly lanes: string | null;
  /**
   * The first answer's status, then the other answers' distinct statuses in numeric order:
   * "201 + 201", "201 + 409/500"; "no answer" stands for an attempt whose answer was lost.
   * Null when no attempt of it completed.
   */
  readonly statuses: string | null;
}

/** A violation of a defect other than its first, as a reference into the history. */
export interface DefectReference {
  readonly key: string | null;
  readonly tenant: string | null;
  /** The pattern instance, e.g. "concurrent-burst#1" (a repetition adds "@2", "@3"…). */
  readonly pattern: string | null;
  readonly events: readonly number[];
  /** The scenario, in a run-wide defect whose violations span several scenarios. */
  readonly scenario?: string;
}

/** How often a defect showed: in how many runs of its patterns, out of how many ran. */
export interface Reproduction {
  /** Pattern runs (instances, every repetition counted) in which it showed. */
  readonly runs: number;
  /** Pattern runs of the same patterns, every repetition counted. */
  readonly of: number;
  /** The patterns it showed in, without repetition suffix, e.g. ["concurrent-burst#1"]. */
  readonly patterns: readonly string[];
}

export interface Defect {
  /** The signature as one stable string (checker|kind|pattern kind|lanes|statuses). */
  readonly id: string;
  readonly signature: DefectSignature;
  /** "duplicate effect under concurrent-burst on the clean lane: 201 + 201". */
  readonly title: string;
  /** How many violations it groups (≥ 1). */
  readonly count: number;
  /** The first violation, in full. */
  readonly first: Anomaly;
  /** The pattern instance of the first violation. */
  readonly firstPattern: string | null;
  /** Every other violation, in the order they were found. */
  readonly others: readonly DefectReference[];
  /** Null when its violations name no pattern. */
  readonly reproduced: Reproduction | null;
}

/** What grouping reads of a scenario; the history and patterns may be missing (old results). */
export interface DefectInput {
  readonly checks: readonly CheckResult[];
  readonly history?: readonly HistoryEvent[];
}

type Completion = Extract<HistoryEvent, { type: 'ok' | 'fail' | 'info' }>;

interface HistoryLookup {
  readonly byIndex: ReadonlyMap<number, HistoryEvent>;
  readonly invokes: ReadonlyMap<string, InvokeEvent>;
  readonly completions: ReadonlyMap<string, Completion>;
  /** Every pattern instance that sent an attempt or read a probe, in order. */
  readonly patterns: readonly string[];
}

function lookup(history: readonly HistoryEvent[]): HistoryLookup {
  const byIndex = new Map<number, HistoryEvent>();
  const invokes = new Map<string, InvokeEvent>();
  const completions = new Map<string, Completion>();
  const patterns = new Set<string>();
  for (const event of history) {
    byIndex.set(event.index, event);
    if (event.type === 'invoke' || event.type === 'probe') patterns.add(event.pattern);
    if (event.type === 'invoke') invokes.set(event.op, event);
    else if (event.type === 'ok' || event.type === 'fail' || event.type === 'info')
      completions.set(event.op, event);
  }
  return { byIndex, invokes, completions, patterns: [...patterns] };
}

const NO_ANSWER = 'no answer';

/** What an anomaly's events say about where it happened: pattern, lanes, statuses. */
function whereOf(
  anomaly: Anomaly,
  history: HistoryLookup,
): {
  pattern: string | null;
  patternKind: PatternKind | null;
  lanes: string | null;
  statuses: string | null;
} {
  const invokes: InvokeEvent[] = [];
  let pattern: string | null = null;
  let patternKind: PatternKind | null = null;
  for (const index of anomaly.events) {
    const event = history.byIndex.get(index);
    if (event === undefined) continue;
    const invoke =
      event.type === 'invoke'
        ? event
        : event.type === 'ok' || event.type === 'fail' || event.type === 'info'
          ? history.invokes.get(event.op)
          : undefined;
    if (invoke !== undefined && !invokes.includes(invoke)) invokes.push(invoke);
    const named = invoke ?? (event.type === 'probe' ? event : undefined);
    if (named !== undefined && pattern === null) {
      pattern = named.pattern;
      patternKind = named.patternKind;
    }
  }
  invokes.sort((a, b) => a.index - b.index);
  const lanes = [...new Set(invokes.map((invoke) => invoke.lane))].sort();
  const answers: string[] = [];
  for (const invoke of invokes) {
    const completion = history.completions.get(invoke.op);
    if (completion?.type === 'ok') answers.push(String(completion.response.status));
    else if (completion?.type === 'info') answers.push(NO_ANSWER);
  }
  return {
    pattern,
    patternKind,
    lanes: lanes.length === 0 ? null : lanes.join('+'),
    statuses: statusesOf(answers),
  };
}

function statusesOf(answers: readonly string[]): string | null {
  const [first, ...rest] = answers;
  if (first === undefined) return null;
  const others = [...new Set(rest)].sort((a, b) => {
    const [x, y] = [Number(a), Number(b)];
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
    return x - y;
  });
  return others.length === 0 ? first : `${first} + ${others.join('/')}`;
}

function signatureId(signature: DefectSignature): string {
  return [
    signature.checker,
    signature.kind,
    signature.patternKind ?? '-',
    signature.lanes ?? '-',
    signature.statuses ?? '-',
  ].join('|');
}

/** "duplicate effect under concurrent-burst on the clean lane: 201 + 201". */
export function defectTitle(signature: DefectSignature): string {
  const lanes = signature.lanes?.split('+') ?? [];
  const parts = [signature.kind.replace(/[-_]+/g, ' ')];
  if (signature.patternKind !== null) parts.push(`under ${signature.patternKind}`);
  if (lanes.length === 1) parts.push(`on the ${lanes[0]} lane`);
  else if (lanes.length > 1) parts.push(`on the ${listWithMore(lanes)} lanes`);
  const head = parts.join(' ');
  return signature.statuses === null ? head : `${head}: ${signature.statuses}`;
}

interface Building {
  readonly signature: DefectSignature;
  readonly first: Anomaly;
  readonly firstPattern: string | null;
  readonly others: DefectReference[];
  readonly patterns: Set<string>;
}

function reproduction(building: Building, ranPatterns: readonly string[]): Reproduction | null {
  if (building.patterns.size === 0) return null;
  const bases = [...new Set([...building.patterns].map(basePatternId))];
  const ran = ranPatterns.filter((id) => bases.includes(basePatternId(id))).length;
  return {
    runs: building.patterns.size,
    of: Math.max(ran, building.patterns.size),
    patterns: bases,
  };
}

/**
 * The defects of a scenario's violated checks, in the order their first violation was found.
 * Without a history, the signature has only the check and the anomaly kind.
 */
export function groupDefects(input: DefectInput): Defect[] {
  const history = lookup(input.history ?? []);
  const groups = new Map<string, Building>();
  for (const check of input.checks) {
    if (check.valid !== false) continue;
    for (const anomaly of check.anomalies) {
      const where = whereOf(anomaly, history);
      const signature: DefectSignature = {
        checker: check.checker,
        kind: anomaly.kind,
        patternKind: where.patternKind,
        lanes: where.lanes,
        statuses: where.statuses,
      };
      const id = signatureId(signature);
      const group = groups.get(id);
      if (group === undefined) {
        groups.set(id, {
          signature,
          first: anomaly,
          firstPattern: where.pattern,
          others: [],
          patterns: new Set(where.pattern === null ? [] : [where.pattern]),
        });
      } else {
        group.others.push({
          key: anomaly.key,
          tenant: anomaly.tenant,
          pattern: where.pattern,
          events: anomaly.events,
        });
        if (where.pattern !== null) group.patterns.add(where.pattern);
      }
    }
  }
  return [...groups].map(([id, group]) => ({
    id,
    signature: group.signature,
    title: defectTitle(group.signature),
    count: 1 + group.others.length,
    first: group.first,
    firstPattern: group.firstPattern,
    others: group.others,
    reproduced: reproduction(group, history.patterns),
  }));
}

/** A defect of the whole run: the same signature in one or more scenarios. */
export interface RunDefect extends Defect {
  /** The scenarios it showed in, in run order; the first violation is from the first. */
  readonly scenarios: readonly string[];
}

/**
 * The run's defects: the scenarios' defects with the same signature merged into one, in order
 * of first appearance. Counts and reproduction runs add up; the other scenarios' violations
 * become references naming their scenario.
 */
export function mergeDefects(
  perScenario: readonly { readonly scenario: string; readonly defects: readonly Defect[] }[],
): RunDefect[] {
  const merged = new Map<string, RunDefect>();
  for (const { scenario, defects } of perScenario) {
    for (const defect of defects) {
      const seen = merged.get(defect.id);
      if (seen === undefined) {
        merged.set(defect.id, { ...defect, scenarios: [scenario] });
        continue;
      }
      const first: DefectReference = {
        key: defect.first.key,
        tenant: defect.first.tenant,
        pattern: defect.firstPattern,
        events: defect.first.events,
      };
      merged.set(defect.id, {
        ...seen,
        count: seen.count + defect.count,
        others: [...seen.others, ...[first, ...defect.others].map((ref) => ({ ...ref, scenario }))],
        reproduced: addReproduction(seen.reproduced, defect.reproduced),
        scenarios: seen.scenarios.includes(scenario)
          ? seen.scenarios
          : [...seen.scenarios, scenario],
      });
    }
  }
  return [...merged.values()];
}

function addReproduction(a: Reproduction | null, b: Reproduction | null): Reproduction | null {
  if (a === null || b === null) return a ?? b;
  return {
    runs: a.runs + b.runs,
    of: a.of + b.of,
    patterns: [...new Set([...a.patterns, ...b.patterns])],
  };
}

/** "in 2 of 3 runs of concurrent-burst#1". */
export function reproductionText(reproduced: Reproduction): string {
  const runs = reproduced.of === 1 ? 'run' : 'runs';
  return `in ${reproduced.runs} of ${reproduced.of} ${runs} of ${reproduced.patterns.join(', ')}`;
}
