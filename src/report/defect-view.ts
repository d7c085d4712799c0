import {
  groupDefects,
  mergeDefects,
  reproductionText,
  severityRank,
  type Defect,
  type DefectReference,
  type RunDefect,
  type Symptom,
} from '../check/defects.js';
import { listWithMore, plural } from '../check/wording.js';
import type { RunResult, ScenarioResult } from '../run/result.js';

/**
 * How every reporter reads a run's defects (grouped violations) and their symptoms, so the
 * terminal, the HTML page, junit.xml and the GitHub summary name them the same way. Pure
 * functions of the result; must not regroup what the run grouped.
 */

/** A scenario's defects: as the run grouped them, or grouped from its checks alone. */
export function defectsOf(scenario: ScenarioResult): readonly Defect[] {
  return scenario.defects ?? groupDefects({ checks: scenario.checks });
}

/** The run's distinct defects: as the run merged them, or merged from its scenarios now. */
export function runDefects(result: RunResult): readonly RunDefect[] {
  return (
    result.defects ??
    mergeDefects(
      result.scenarios.map((scenario) => ({
        scenario: scenario.name,
        defects: defectsOf(scenario),
      })),
    )
  );
}

/**
 * The defects in the order to show them when only some fit: one of each family (same check and
 * kind of lead symptom) in turn, the most severe family first (`SEVERITY`, then first
 * appearance), so the first few defects shown cover the worst problems and as many kinds of
 * problem as there are, not five variants of one.
 */
export function showingOrder<D extends Defect>(defects: readonly D[]): D[] {
  const families = new Map<string, D[]>();
  for (const defect of defects) {
    const family = `${defect.signature.checker}|${defect.signature.kind}`;
    const members = families.get(family) ?? [];
    members.push(defect);
    families.set(family, members);
  }
  const ranked = [...families.values()].sort(
    (a, b) => severityRank(a[0]?.signature.kind ?? '') - severityRank(b[0]?.signature.kind ?? ''),
  );
  const ordered: D[] = [];
  for (let round = 0; ordered.length < defects.length; round++) {
    for (const members of ranked) {
      const defect = members[round];
      if (defect !== undefined) ordered.push(defect);
    }
  }
  return ordered;
}

/** The scenario of a defect's first violation. */
export function firstScenario(result: RunResult, defect: RunDefect): ScenarioResult | undefined {
  return result.scenarios.find((scenario) => scenario.name === defect.scenarios[0]);
}

/** "in demo payments" or "in 3 scenarios: a, b and c". */
export function scenariosText(defect: RunDefect): string {
  return defect.scenarios.length === 1
    ? `in ${defect.scenarios[0] ?? ''}`
    : `in ${plural(defect.scenarios.length, 'scenario')}: ${listWithMore([...defect.scenarios])}`;
}

/** How many times the run's plan ran (`--repeat`). */
export function repeatOf(result: RunResult): number {
  return result.repeat ?? 1;
}

/**
 * "reproduced in 2 of 3 runs of concurrent-burst#1" for a repeated run, where the rate says
 * something; undefined otherwise.
 */
export function reproducedLine(
  result: RunResult,
  defect: Pick<Defect, 'reproduced'>,
): string | undefined {
  if (repeatOf(result) <= 1 || defect.reproduced === null) return undefined;
  return `reproduced ${reproductionText(defect.reproduced)}`;
}

/** "held in all 3 repetitions" for a check that holds in a repeated run; else undefined. */
export function heldLine(result: RunResult): string | undefined {
  const repeat = repeatOf(result);
  return repeat <= 1 ? undefined : `held in all ${repeat} repetitions`;
}

/** "3 defects (161 violations)". */
export function defectCountText(defects: number, violations: number): string {
  return `${plural(defects, 'defect')} (${plural(violations, 'violation')})`;
}

/** "key k1 (tenant t)" — one reference to another violation of a defect. */
export function referenceText(reference: DefectReference): string {
  const parts = [
    reference.key === null ? 'no key' : `key ${reference.key}`,
    reference.tenant === null ? null : `tenant ${reference.tenant}`,
    reference.pattern === null ? null : reference.pattern,
  ].filter((part) => part !== null);
  return parts.join(' · ');
}

function keyOf(reference: Pick<DefectReference, 'key' | 'pattern'>): string {
  return reference.key === null ? (reference.pattern ?? 'no key') : reference.key;
}

/** "also 26 more (keys a, b, c and 5 more)": the other violations of a symptom, in one line. */
export function othersLine(symptom: Symptom, max = 3): string | undefined {
  if (symptom.others.length === 0) return undefined;
  const keys = [...new Set(symptom.others.map(keyOf))];
  return `also ${symptom.others.length} more (${listWithMore(keys, max)})`;
}

/**
 * "replay body differs under concurrent-burst on the clean lane: 2xx + 2xx · 82 violations ·
 * keys a, b, c and 79 more": one symptom of a defect, its first example's key first.
 */
export function symptomLine(symptom: Symptom, max = 3): string {
  const keys = [
    ...new Set([
      keyOf({ key: symptom.first.key, pattern: symptom.firstPattern }),
      ...symptom.others.map(keyOf),
    ]),
  ];
  const named = keys.length === 1 ? `key ${keys[0] ?? ''}` : `keys ${listWithMore(keys, max)}`;
  return `${symptom.title} · ${plural(symptom.count, 'violation')} · ${named}`;
}

/** "duplicate effect …: 2xx + 2xx (10); replay body differs …: 2xx + 2xx (82)". */
export function symptomsText(defect: Defect): string {
  return defect.symptoms.map((symptom) => `${symptom.title} (${symptom.count})`).join('; ');
}

/** The other violations of a defect, symptom by symptom, each naming its symptom's kind. */
export function defectOthers(defect: Defect): { kind: string; reference: DefectReference }[] {
  return defect.symptoms.flatMap((symptom, position) => [
    ...(position === 0
      ? []
      : [
          {
            kind: symptom.signature.kind,
            reference: {
              key: symptom.first.key,
              tenant: symptom.first.tenant,
              pattern: symptom.firstPattern,
              events: symptom.first.events,
            },
          },
        ]),
    ...symptom.others.map((reference) => ({ kind: symptom.signature.kind, reference })),
  ]);
}
