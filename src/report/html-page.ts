import type { HistoryEvent } from '../history/events.js';
import type { RunResult } from '../run/result.js';
import { anchorId, markup, type SafeHtml } from './html-escape.js';
import { count } from './html-format.js';
import { lanePalette, type LanePalette } from './html-lanes.js';
import { DETAILED_VIOLATIONS_PER_CHECK, planViolations, type Planned } from './html-plan.js';
import { placeDefectFirsts, renderDefects } from './html-defects.js';
import { renderBanner, renderCheckMatrix, renderRunFacts } from './html-run.js';
import { renderScenario } from './html-scenario.js';
import { STYLE } from './html-styles.js';
import { renderViolation, renderViolationRows, type ViolationView } from './html-violation.js';
import { indexHistory, type HistoryIndex } from './history-index.js';
import { verdictOf } from './verdict.js';

/**
 * The whole index.html: one self-contained page, no script, no external resource, inline CSS
 * under a Content-Security-Policy that forbids everything else. Every string from the run goes
 * through `escapeHtml` (via the `markup` tag); the only links point at ids generated here.
 */

/** base-uri and form-action do not fall back to default-src, so they are named. */
export const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/**
 * The start of every page idemproof writes, up to </head>: the CSP, no referrer, a viewport,
 * the title and the page's inline style.
 */
export function pageHead(title: string, style: SafeHtml): SafeHtml {
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${style}
</head>`;
}

/** The detailed anomalies of one check, then the others as table rows. */
function renderViews(
  views: readonly ViolationView[],
  index: HistoryIndex,
  palette: LanePalette,
): SafeHtml {
  const detailed = views.filter((view) => view.detailed);
  const rows = views.filter((view) => !view.detailed);
  return markup`${detailed.map((view) => renderViolation(view, index, palette))}${renderViolationRows(rows)}`;
}

function violations(planned: Planned, index: HistoryIndex, palette: LanePalette): SafeHtml {
  const total = planned.violations.reduce((sum, views) => sum + views.length, 0);
  if (total === 0) {
    return markup`<section id="violations"><h2>Violations</h2><p>None.</p></section>`;
  }
  const note =
    planned.compact > 0
      ? markup`<p class="note">Attempts, body diffs and timelines are shown for the first
          ${DETAILED_VIOLATIONS_PER_CHECK} violations of each check; the other ${count(planned.compact)}
          are one table row each (key, message, expected, actual, event indexes). Their curl commands
          are in results.json and every event is in history.jsonl.</p>`
      : null;
  return markup`<section id="violations">
    <h2>Violations (${count(total)})</h2>
    ${note}${planned.violations.map((views) => renderViews(views, index, palette))}
  </section>`;
}

function undecided(planned: Planned, index: HistoryIndex, palette: LanePalette): SafeHtml | null {
  if (planned.undecided.length === 0) return null;
  const items = planned.undecided.map(({ id, scenario, check, views }) => {
    const notes =
      check.notes.length === 0
        ? markup`<p class="note">The checker gave no reason.</p>`
        : markup`<ul>
            ${check.notes.map((note) => markup`<li>${note}</li>`)}
          </ul>`;
    const error =
      scenario.error === null
        ? null
        : markup`<p>
            The scenario stopped early:
            <code>${scenario.error.code}</code> ${scenario.error.message}
          </p>`;
    return markup`<article class="violation unknown" id="${id}">
      <h3>
        <span class="sym unknown">?</span> ${scenario.name} · ${check.checker} could not decide
      </h3>
      ${error}${notes}${renderViews(views, index, palette)}
    </article>`;
  });
  return markup`<section id="undecided">
    <h2>Undecided checks (${planned.undecided.length})</h2>
    ${items}
  </section>`;
}

export function renderReportPage(
  result: RunResult,
  history: readonly HistoryEvent[],
  reportDir: string,
): string {
  const index = indexHistory(history);
  const palette = lanePalette(
    result.lanes.map((lane) => lane.name),
    index.lanes,
  );
  const planned = placeDefectFirsts(result, planViolations(result));
  const verdict = verdictOf(result);
  const scenarios = result.scenarios.map((scenario, si) =>
    renderScenario(
      { id: anchorId('s', si), scenario, anomalyKeys: planned.anomalyKeys[si] ?? new Map() },
      index,
      palette,
    ),
  );
  const undecidedSection = undecided(planned, index, palette);
  const defectsSection = renderDefects(result, index, palette, planned);
  const defectsLink = defectsSection === null ? null : markup`<a href="#defects">Defects</a> `;
  const undecidedLink =
    undecidedSection === null ? null : markup`<a href="#undecided">Undecided</a>`;
  const page = markup`${pageHead(`idemproof ${verdict.word} · ${result.runId}`, STYLE)}
<body>
<main>
${renderBanner(result)}
<nav>
  <a href="#run">Run</a> <a href="#checks">Checks</a> ${defectsLink}<a href="#violations">Violations</a>
  ${undecidedLink} <a href="#scenarios">Scenarios</a>
</nav>
${renderRunFacts(result, reportDir, palette)}
${renderCheckMatrix(result, planned)}
${defectsSection}
${violations(planned, index, palette)}
${undecidedSection}
<div id="scenarios">${scenarios}</div>
<footer>
  ${result.tool.name} ${result.tool.version} · run ${result.runId} · results.json and junit.xml
  are in the same folder; history.jsonl holds every event.
</footer>
</main>
</body>
</html>
`;
  return page.markup;
}
