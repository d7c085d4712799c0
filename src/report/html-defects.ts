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
import type { RunDefect } from '../check/defects.js';
import { anchorId, markup, type SafeHtml } from './html-escape.js';
import type { LanePalette } from './html-lanes.js';
import { renderViolation } from './html-violation.js';
import type { HistoryIndex } from './history-index.js';
import { STATUS_SYMBOL, tally } from './verdict.js';

/**
 * The Defects section of index.html, which leads the page after the run's facts: each distinct
 * defect (grouped violations) with its count and how often it reproduced, its first violation
 * told in full (attempts, diffs, timeline), and the others folded in a <details> as one row
 * each. Every string goes through the `markup` tag.
 */

/** Other violations of one defect listed as rows; the rest are counted (all are in results.json). */
export const LISTED_REFERENCES = 500;

function renderDefect(
  result: RunResult,
  defect: RunDefect,
  position: number,
  index: HistoryIndex,
  palette: LanePalette,
): SafeHtml {
  const scenario = firstScenario(result, defect);
  const reproduced = reproducedLine(result, defect);
  const listed = defect.others.slice(0, LISTED_REFERENCES);
  const rows = listed.map(
    (other) =>
      markup`<tr><td><code>${other.key ?? '–'}</code></td><td>${other.tenant ?? ''}</td><td>${other.scenario ?? defect.scenarios[0] ?? ''}</td><td>${other.pattern ?? ''}</td><td>${other.events.map((event) => `#${event}`).join(' ')}</td></tr>\n`,
  );
  const more =
    defect.others.length > listed.length
      ? markup`<p class="note">… and ${defect.others.length - listed.length} more, every one in results.json.</p>`
      : null;
  const others =
    listed.length === 0
      ? null
      : markup`<details class="rows"><summary>${defect.others.length} other violations of this defect</summary>
        <div class="wide"><table class="rows"><thead><tr><th>key</th><th>tenant</th><th>scenario</th><th>pattern</th><th>events</th></tr></thead>
        <tbody>${rows}</tbody></table></div>${more}</details>`;
  const first =
    scenario === undefined
      ? null
      : renderViolation(
          {
            id: anchorId('d', position),
            scenario,
            checker: defect.signature.checker,
            anomaly: defect.first,
            status: 'fail',
            detailed: true,
          },
          index,
          palette,
        );
  return markup`<article class="defect" id="${anchorId('defect', position)}">
    <h3><span class="sym fail">${STATUS_SYMBOL.fail}</span> ${position}. ${defect.title} · ${defect.count} ${defect.count === 1 ? 'violation' : 'violations'}</h3>
    <p>${defect.signature.checker} · ${scenariosText(defect)}${reproduced === undefined ? null : markup` · <strong>${reproduced}</strong>`}</p>
    <p class="note">First violation, in full:</p>
    ${first}${others}
  </article>`;
}

/** The Defects section; null when the run has none. */
export function renderDefects(
  result: RunResult,
  index: HistoryIndex,
  palette: LanePalette,
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
    return markup`<tr><td><a href="#${anchorId('defect', position + 1)}">${position + 1}. ${defect.title}</a></td><td>${defect.signature.checker}</td><td>${defect.count}</td><td>${defect.scenarios.join(', ')}</td>${repeated ? markup`<td>${reproduced ?? ''}</td>` : null}</tr>\n`;
  });
  const table = markup`<div class="wide"><table class="rows"><thead><tr><th>defect</th><th>check</th><th>violations</th><th>scenarios</th>${repeated ? markup`<th>reproduced</th>` : null}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
  return markup`<section id="defects">
    <h2>Defects: ${defectCountText(counts.defects, counts.violations)}</h2>
    ${heldNote}${table}${defects.map((defect, position) => renderDefect(result, defect, position + 1, index, palette))}
  </section>`;
}
