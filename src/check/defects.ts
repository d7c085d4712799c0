import type { HistoryEvent, InvokeEvent, PatternKind } from '../history/events.js';
import { basePatternId } from '../plan/repeat.js';
import type { Anomaly, CheckResult } from './types.js';
import { listWithMore } from './wording.js';

/**
 * Groups the violations of a scenario into distinct defects, in two levels.
 *
 * A **symptom** groups violations that share a signature: the check, the anomaly's kind, the
 * kind of pattern its attempts belong to, the fault lanes they went through and the statuses
 * they got (the first answer's, then the others'; every 2xx status reads "2xx", 4xx, 5xx and
 * "no answer" stay exact). One symptom that shows in 160 keys is one symptom with a count, its
 * first example in full and the others as references.
 *
 * A **defect** groups the symptoms seen on the same keys: two symptoms belong to one defect
 * when a violation of each names the same (tenant, key) in the scenario (connected components;
 * a violation without a key links nothing). A check-then-insert race that duplicates effects,
 * changes replays and runs in-flight duplicates on the same keys is one defect with three
 * symptoms. A defect is led by its most severe symptom (`SEVERITY`, then the larger count, then
 * the first found), which gives it its id and title; its count is the sum of its symptoms'. How
 * often a defect or symptom reproduced is counted per pattern run (all repetitions of a
 * `--repeat` run included).
 *
 * Pure and generic: it reads only the anomalies and the history events they name, never a
 * checker's wording, so the anomalies of any checker group the same way (a kind missing from
 * `SEVERITY` ranks after the listed ones). It never drops or invents a violation: each one is in
 * exactly one symptom of one defect, and the counts of a scenario's defects sum to its
 * violations.
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
   * The first answer's status, then the other answers' distinct statuses in numeric order, every
   * 2xx status read as "2xx": "2xx + 2xx", "2xx + 409/500"; "no answer" stands for an attempt
   * whose answer was lost. Null when no attempt of it completed.
   */
  readonly statuses: string | null;
}

/** A violation of a symptom other than its first, as a reference into the history. */
export interface DefectReference {
  readonly key: string | null;
  readonly tenant: string | null;
  /** The pattern instance, e.g. "concurrent-burst#1" (a repetition adds "@2", "@3"…). */
  readonly pattern: string | null;
  readonly events: readonly number[];
  /** The scenario, in a run-wide symptom whose violations span several scenarios. */
  readonly scenario?: string;
}

/** How often a defect or symptom showed: in how many runs of its patterns, out of how many ran. */
export interface Reproduction {
  /** Pattern runs (instances, every repetition counted) in which it showed. */
  readonly runs: number;
  /** Pattern runs of the same patterns, every repetition counted. */
  readonly of: number;
  /** The patterns it showed in, without repetition suffix, e.g. ["concurrent-burst#1"]. */
  readonly patterns: readonly string[];
}

/** What a symptom and a defect both say: a signature, a title, a count and a first example. */
interface Grouped {
  /** The signature as one stable string (checker|kind|pattern kind|lanes|statuses). */
  readonly id: string;
  readonly signature: DefectSignature;
  /** "replay body differs under concurrent-burst on the clean lane: 2xx + 2xx". */
  readonly title: string;
  /** How many violations it groups (≥ 1). */
  readonly count: number;
  /** The first violation, in full. */
  readonly first: Anomaly;
  /** The pattern instance of the first violation. */
  readonly firstPattern: string | null;
  /** Pattern runs in which it showed; null when its violations name no pattern. */
  readonly reproduced: Reproduction | null;
}

/** Violations with one signature: one way a defect shows. */
export interface Symptom extends Grouped {
  /** Every other violation, in the order they were found. */
  readonly others: readonly DefectReference[];
}

/**
 * Symptoms seen on the same keys: one bug. Its id, signature, title, first violation and first
 * pattern are its lead symptom's (the most severe, `symptoms[0]`); its count is the sum of its
 * symptoms' counts, and it reproduced in every pattern run where any symptom showed.
 */
export interface Defect extends Grouped {
  /** Its symptoms, the lead first, then by severity, count and first appearance. */
  readonly symptoms: readonly Symptom[];
}

/**
 * The order of anomaly kinds from the most to the least severe, which picks a defect's lead
 * symptom: wrong effects and answers that hide them first, then replays that differ, then
 * refusals of the wrong shape. A kind not listed ranks after all of these.
 */
export const SEVERITY: readonly string[] = [
  'duplicate-effect',
  'mismatch-accepted',
  'cross-tenant-replay',
  'in-flight-second-execution',
  'original-result-changed',
  'key-stuck-in-progress',
  'key-stuck-after-unknown-outcome',
  'state-regressed',
  'missing-effect',
  'effect-without-success',
  'not-executed-after-retention',
  'missing-key-made-effect',
  'distinct-key-wrong-effects',
  'missing-key-wrong-effects',
  'step-effects',
  'server-error-replayed',
  'replay-status-differs',
  'replay-body-differs',
  'replay-header-differs',
  'missing-key-accepted',
  'distinct-key-refused',
  'step-status',
  'step-body',
  'step-header',
  'mismatch-wrong-status',
  'in-flight-wrong-response',
  'missing-key-wrong-status',
  'replay-marker-missing',
  'refusal-wrong-code',
  'refusal-missing-retry-after',
  'refusal-invalid-retry-after',
  'refusal-not-problem-json',
  'refusal-body-missing-text',
];

/** The rank of an anomaly kind in `SEVERITY`; unlisted kinds share the last rank. */
export function severityRank(kind: string): number {
  const rank = SEVERITY.indexOf(kind);
  return rank === -1 ? SEVERITY.length : rank;
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

const SUCCESS = '2xx';

/** A status as a signature reads it: any success is "2xx"; others stay exact. */
function statusClass(answer: string): string {
  return /^2\d\d$/.test(answer) ? SUCCESS : answer;
}

/** Where a status sorts: by number, "2xx" as 200, "no answer" last. */
function statusOrder(answer: string): number {
  if (answer === SUCCESS) return 200;
  const status = Number(answer);
  return Number.isNaN(status) ? Number.POSITIVE_INFINITY : status;
}

function statusesOf(answers: readonly string[]): string | null {
  const [first, ...rest] = answers.map(statusClass);
  if (first === undefined) return null;
  const others = [...new Set(rest)].sort((a, b) => statusOrder(a) - statusOrder(b));
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

/** "duplicate effect under concurrent-burst on the clean lane: 2xx + 2xx". */
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
  readonly id: string;
  readonly signature: DefectSignature;
  readonly first: Anomaly;
  readonly firstPattern: string | null;
  readonly others: DefectReference[];
  readonly patterns: Set<string>;
  /** Position of its first violation among the scenario's symptoms. */
  readonly order: number;
}

function reproduction(
  patterns: ReadonlySet<string>,
  ranPatterns: readonly string[],
): Reproduction | null {
  if (patterns.size === 0) return null;
  const bases = [...new Set([...patterns].map(basePatternId))];
  const ran = ranPatterns.filter((id) => bases.includes(basePatternId(id))).length;
  return { runs: patterns.size, of: Math.max(ran, patterns.size), patterns: bases };
}

/** Union-find over symptom ids: which symptoms were seen on a common key. */
class Links {
  private readonly parent = new Map<string, string>();

  find(id: string): string {
    let root = id;
    for (let next = this.parent.get(root); next !== undefined && next !== root;) {
      root = next;
      next = this.parent.get(root);
    }
    for (let node = id; node !== root;) {
      const next = this.parent.get(node) ?? root;
      this.parent.set(node, root);
      node = next;
    }
    return root;
  }

  join(a: string, b: string): void {
    const [x, y] = [this.find(a), this.find(b)];
    if (x !== y) this.parent.set(y, x);
  }
}

/** Most severe first: by `SEVERITY`, then the larger count, then the first found. */
function bySeverity<S extends { readonly signature: DefectSignature; readonly count: number }>(
  order: (symptom: S) => number,
): (a: S, b: S) => number {
  return (a, b) =>
    severityRank(a.signature.kind) - severityRank(b.signature.kind) ||
    b.count - a.count ||
    order(a) - order(b);
}

/**
 * The defects of a scenario's violated checks, in the order their first violation was found,
 * each with its symptoms. Without a history, a symptom's signature has only the check and the
 * anomaly kind.
 */
export function groupDefects(input: DefectInput): Defect[] {
  const history = lookup(input.history ?? []);
  const groups = new Map<string, Building>();
  const links = new Links();
  const keyOwners = new Map<string, string>();
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
          id,
          signature,
          first: anomaly,
          firstPattern: where.pattern,
          others: [],
          patterns: new Set(where.pattern === null ? [] : [where.pattern]),
          order: groups.size,
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
      if (anomaly.key !== null) {
        const key = JSON.stringify([anomaly.tenant, anomaly.key]);
        const owner = keyOwners.get(key);
        if (owner === undefined) keyOwners.set(key, id);
        else links.join(owner, id);
      }
    }
  }
  const components = new Map<string, Building[]>();
  for (const group of groups.values()) {
    const root = links.find(group.id);
    const members = components.get(root) ?? [];
    members.push(group);
    components.set(root, members);
  }
  return [...components.values()].map((members) => {
    const order = new Map<Symptom, number>();
    const symptoms = members.map((group): Symptom => {
      const symptom: Symptom = {
        id: group.id,
        signature: group.signature,
        title: defectTitle(group.signature),
        count: 1 + group.others.length,
        first: group.first,
        firstPattern: group.firstPattern,
        others: group.others,
        reproduced: reproduction(group.patterns, history.patterns),
      };
      order.set(symptom, group.order);
      return symptom;
    });
    symptoms.sort(bySeverity((symptom: Symptom) => order.get(symptom) ?? 0));
    return defectOf(
      symptoms,
      reproduction(new Set(members.flatMap((group) => [...group.patterns])), history.patterns),
    );
  });
}

function defectOf<S extends Symptom>(
  symptoms: readonly S[],
  reproduced: Reproduction | null,
): Defect & { readonly symptoms: readonly S[] } {
  const [lead] = symptoms;
  if (lead === undefined) throw new Error('a defect has at least one symptom');
  return {
    id: lead.id,
    signature: lead.signature,
    title: lead.title,
    count: symptoms.reduce((sum, symptom) => sum + symptom.count, 0),
    first: lead.first,
    firstPattern: lead.firstPattern,
    reproduced,
    symptoms,
  };
}

/** A symptom of the whole run: the same signature in one or more scenarios. */
export interface RunSymptom extends Symptom {
  /** The scenarios it showed in, in run order; the first violation is from the first. */
  readonly scenarios: readonly string[];
}

/** A defect of the whole run: the same lead symptom in one or more scenarios. */
export interface RunDefect extends Defect {
  /** The scenarios it showed in, in run order; the first violation is from the first. */
  readonly scenarios: readonly string[];
  readonly symptoms: readonly RunSymptom[];
}

function referenceTo(symptom: Symptom): DefectReference {
  return {
    key: symptom.first.key,
    tenant: symptom.first.tenant,
    pattern: symptom.firstPattern,
    events: symptom.first.events,
  };
}

function mergeSymptom(seen: RunSymptom, symptom: Symptom, scenario: string): RunSymptom {
  return {
    ...seen,
    count: seen.count + symptom.count,
    others: [
      ...seen.others,
      ...[referenceTo(symptom), ...symptom.others].map((ref) => ({ ...ref, scenario })),
    ],
    reproduced: addReproduction(seen.reproduced, symptom.reproduced),
    scenarios: seen.scenarios.includes(scenario) ? seen.scenarios : [...seen.scenarios, scenario],
  };
}

/**
 * The run's defects: the scenarios' defects with the same lead symptom merged into one, in
 * order of first appearance; inside them, symptoms with the same signature merge. Counts and
 * reproduction runs add up; the other scenarios' violations become references naming their
 * scenario.
 */
export function mergeDefects(
  perScenario: readonly { readonly scenario: string; readonly defects: readonly Defect[] }[],
): RunDefect[] {
  const merged = new Map<string, RunDefect>();
  for (const { scenario, defects } of perScenario) {
    for (const defect of defects) {
      const seen = merged.get(defect.id);
      if (seen === undefined) {
        merged.set(defect.id, {
          ...defect,
          scenarios: [scenario],
          symptoms: defect.symptoms.map((symptom) => ({ ...symptom, scenarios: [scenario] })),
        });
        continue;
      }
      const symptoms = [...seen.symptoms];
      for (const symptom of defect.symptoms) {
        const at = symptoms.findIndex((one) => one.id === symptom.id);
        const known = symptoms[at];
        if (known === undefined) symptoms.push({ ...symptom, scenarios: [scenario] });
        else symptoms[at] = mergeSymptom(known, symptom, scenario);
      }
      const [lead, ...rest] = symptoms;
      const order = new Map(symptoms.map((symptom, position) => [symptom, position]));
      const sorted =
        lead === undefined
          ? []
          : [lead, ...rest.sort(bySeverity((one: RunSymptom) => order.get(one) ?? 0))];
      merged.set(defect.id, {
        ...defectOf(sorted, addReproduction(seen.reproduced, defect.reproduced)),
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
