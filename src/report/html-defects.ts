import type { RunResult } from '../run/result.js';
import {
  defectCountText,
  heldLine,
  repeatOf,
  reproducedLine,
  runDefects,
  firstScenario,
  scenariosText,
} from './defect-view.js';
import type { DefectReference, RunDefect, RunSymptom } from '../check/defects.js';
import type { Anomaly } from '../check/types.js';
import { anchorId, markup, type SafeHtml } from './html-escape.js';
import type { LanePalette } from './html-lanes.js';
import type { Planned } from './html-plan.js';
import { renderViolation, type ViolationView } from './html-violation.js';
import type { HistoryIndex } from './history-index.js';
import { plural, STATUS_SYMBOL, tally } from './verdict.js';

/**
 * The Defects section of index.html, which leads the page after the run's facts: each distinct
 * defect (grouped violations) with its count and how often it reproduced, its first violation
 * told in full (attempts, diffs, timeline), then its symptoms, each with its count, its first
 * example's key linked to that violation on the page, and its other violations folded in a
 * <details> as one row each. Every string goes through the `markup` tag.
 *
 * A defect's first violation is told in full here only: `placeDefectFirsts` marks it in the
 * plan, so the Violations section shows it as a link back here, and the checks table and key
 * links that pointed at it land here instead. Must not render any violation in full twice.
 */

/** Other violations of one symptom listed as rows; the rest are counted (all are in results.json). */
export const LISTED_REFERENCES = 500;

/** The anchor of the full telling of the defect at `position` (1-based). */
export function defectFirstAnchor(position: number): string {
  return anchorId('d', position);
}

/** One violation as a lookup key: where it is and what it names. */
function violationKey(
  scenario: string,
  checker: string,
  kind: string,
  reference: Pick<DefectReference, 'key' | 'tenant' | 'events'>,
): string {
  return JSON.stringify([
    scenario,
    checker,
    kind,
    reference.key,
    reference.tenant,
    reference.events,
  ]);
}

function anomalyKey(scenario: string, checker: string, anomaly: Anomaly): string {
  return violationKey(scenario, checker, anomaly.kind, anomaly);
}

/** The anchors of the plan's violations, by what they name; the first of equal ones wins. */
function viewAnchors(planned: Planned): Map<string, string> {
  const anchors = new Map<string, string>();
  for (const views of planned.violations) {
    for (const view of views) {
      const key = anomalyKey(view.scenario.name, view.checker, view.anomaly);
      if (!anchors.has(key)) anchors.set(key, view.shownAt ?? view.id);
    }
  }
  return anchors;
}

/**
 * The plan with each defect's first violation told under Defects: its view in the Violations
 * section becomes a link to it (`shownAt`), and the checks-table and key links that pointed at
 * that view point at the defect's full telling.
 */
export function placeDefectFirsts(result: RunResult, planned: Planned): Planned {
  const firsts = new Map<string, string>();
  runDefects(result).forEach((defect, position) => {
    const scenario = defect.scenarios[0];
    if (scenario === undefined) return;
    const key = anomalyKey(scenario, defect.signature.checker, defect.first);
    if (!firsts.has(key)) firsts.set(key, defectFirstAnchor(position + 1));
  });
  if (firsts.size === 0) return planned;
  const moved = new Map<string, string>();
  const violations = planned.violations.map((views) =>
    views.map((view): ViolationView => {
      const key = anomalyKey(view.scenario.name, view.checker, view.anomaly);
      const shownAt = firsts.get(key);
      if (shownAt === undefined) return view;
      firsts.delete(key);
      moved.set(view.id, shownAt);
      return { ...view, shownAt };
    }),
  );
  const repoint = (anchor: string): string => moved.get(anchor) ?? anchor;
  return {
    ...planned,
    violations,
    anomalyKeys: planned.anomalyKeys.map(
      (keys) => new Map([...keys].map(([key, anchor]) => [key, repoint(anchor)])),
    ),
    firstAnchor: new Map([...planned.firstAnchor].map(([cell, anchor]) => [cell, repoint(anchor)])),
  };
}

function renderSymptom(
  defect: RunDefect,
  symptom: RunSymptom,
  anchors: ReadonlyMap<string, string>,
): SafeHtml {
  const scenario = symptom.scenarios[0] ?? defect.scenarios[0] ?? '';
  const { checker, kind } = symptom.signature;
  const firstAnchor = anchors.get(anomalyKey(scenario, checker, symptom.first));
  const firstKey = markup`<code>${symptom.first.key ?? symptom.firstPattern ?? 'no key'}</code>`;
  const first =
    firstAnchor === undefined
      ? markup`first: key ${firstKey}`
      : markup`first: <a href="#${firstAnchor}">key ${firstKey}</a>`;
  const listed = symptom.others.slice(0, LISTED_REFERENCES);
  const rows = listed.map((other) => {
    const where = other.scenario ?? scenario;
    const anchor = anchors.get(violationKey(where, checker, kind, other));
    const key = markup`<code>${other.key ?? '–'}</code>`;
    return markup`<tr><td>${anchor === undefined ? key : markup`<a href="#${anchor}">${key}</a>`}</td><td>${other.tenant ?? ''}</td><td>${where}</td><td>${other.pattern ?? ''}</td><td>${other.events.map((event) => `#${event}`).join(' ')}</td></tr>\n`;
  });
  const more =
    symptom.others.length > listed.length
      ? markup`<p class="note">… and ${symptom.others.length - listed.length} more, every one in results.json.</p>`
      : null;
  const others =
    listed.length === 0
      ? null
      : markup`<details class="rows"><summary>${plural(symptom.others.length, 'other violation')} of this symptom</summary>
        <div class="wide"><table class="rows"><thead><tr><th>key</th><th>tenant</th><th>scenario</th><th>pattern</th><th>events</th></tr></thead>
        <tbody>${rows}</tbody></table></div>${more}</details>`;
  return markup`<li class="symptom">${symptom.title} · ${plural(symptom.count, 'violation')} · ${checker} · ${first}${others}</li>\n`;
}

function renderDefect(
  result: RunResult,
  defect: RunDefect,
  position: number,
  context: { index: HistoryIndex; palette: LanePalette; anchors: ReadonlyMap<string, string> },
): SafeHtml {
  const scenario = firstScenario(result, defect);
  const reproduced = reproducedLine(result, defect);
  const first =
    scenario === undefined
      ? null
      : renderViolation(
          {
            id: defectFirstAnchor(position),
            scenario,
            checker: defect.signature.checker,
            anomaly: defect.first,
            status: 'fail',
            detailed: true,
          },
          context.index,
          context.palette,
        );
  const symptoms = defect.symptoms.map((symptom) =>
    renderSymptom(defect, symptom, context.anchors),
  );
  return markup`<article class="defect" id="${anchorId('defect', position)}">
    <h3><span class="sym fail">${STATUS_SYMBOL.fail}</span> ${position}. ${defect.title} · ${plural(defect.count, 'violation')}</h3>
    <p>${defect.signature.checker} · ${scenariosText(defect)}${reproduced === undefined ? null : markup` · <strong>${reproduced}</strong>`}</p>
    <p class="note">First violation, in full:</p>
    ${first}
    <h4>${plural(defect.symptoms.length, 'symptom')}</h4>
    <ul class="symptoms">${symptoms}</ul>
  </article>`;
}

/**
 * The Defects section; null when the run has none. `planned` (after `placeDefectFirsts`) gives
 * the anchors the symptoms link to; without it they name their keys unlinked.
 */
export function renderDefects(
  result: RunResult,
  index: HistoryIndex,
  palette: LanePalette,
  planned?: Planned,
): SafeHtml | null {
  const defects = runDefects(result);
  const held = heldLine(result);
  const counts = tally(result);
  const heldNote =
    held === undefined || counts.passed === 0
      ? null
      : markup`<p>${STATUS_SYMBOL.pass} ${counts.passed} checks ${held}.</p>`;
  if (defects.length === 0) {
    return heldNote === null
      ? null
      : markup`<section id="defects"><h2>Defects</h2><p>None.</p>${heldNote}</section>`;
  }
  const repeated = repeatOf(result) > 1;
  const rows = defects.map((defect, position) => {
    const reproduced = reproducedLine(result, defect);
    return markup`<tr><td><a href="#${anchorId('defect', position + 1)}">${position + 1}. ${defect.title}</a></td><td>${defect.signature.checker}</td><td>${defect.symptoms.length}</td><td>${defect.count}</td><td>${defect.scenarios.join(', ')}</td>${repeated ? markup`<td>${reproduced ?? ''}</td>` : null}</tr>\n`;
  });
  const table = markup`<div class="wide"><table class="rows"><thead><tr><th>defect</th><th>check</th><th>symptoms</th><th>violations</th><th>scenarios</th>${repeated ? markup`<th>reproduced</th>` : null}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
  const context = {
    index,
    palette,
    anchors: planned === undefined ? new Map<string, string>() : viewAnchors(planned),
  };
  return markup`<section id="defects">
    <h2>Defects: ${defectCountText(counts.defects, counts.violations)}</h2>
    ${heldNote}${table}${defects.map((defect, position) => renderDefect(result, defect, position + 1, context))}
  </section>`;
}
