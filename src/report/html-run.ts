import type { RunResult } from '../run/result.js';
import { anchorId, markup, type SafeHtml } from './html-escape.js';
import { breakable } from './html-format.js';
import { laneSwatch, type LanePalette } from './html-lanes.js';
import type { Planned } from './html-plan.js';
import {
  checkStatus,
  checkerNames,
  formatDuration,
  plural,
  STATUS_SYMBOL,
  STATUS_WORD,
  verdictOf,
} from './verdict.js';

/**
 * The top of the page: the verdict banner, the run's facts (id, seed, replay command, lanes,
 * scenarios) and the scenarios × checks table whose cells link to the violations.
 */

export function renderBanner(result: RunResult): SafeHtml {
  const verdict = verdictOf(result);
  const t = verdict.tally;
  const counts = `${plural(t.checks, 'check')}: ${t.passed} hold, ${t.failed} violated, ${t.unknown} unknown, ${t.notApplicable} not applicable · ${plural(t.scenarios, 'scenario')} · ${plural(t.attempts, 'attempt')} · ${formatDuration(result.durationMs)}`;
  return markup`<header class="banner ${verdict.state}">
    <h1>${verdict.headline}</h1>
    <p>${counts}</p>
  </header>`;
}

export function renderRunFacts(
  result: RunResult,
  reportDir: string,
  palette: LanePalette,
): SafeHtml {
  const lanes =
    result.lanes.length === 0
      ? markup`<p class="note">No fault lanes.</p>`
      : markup`<div class="wide"><table>
          <thead>
            <tr>
              <th>lane</th>
              <th>toxics</th>
            </tr>
          </thead>
          <tbody>
            ${result.lanes.map(
              (lane) =>
                markup`<tr>
                  <td>${laneSwatch(palette, lane.name)}</td>
                  <td><code>${lane.toxics}</code></td>
                </tr>`,
            )}
          </tbody>
        </table></div>`;
  const scenarios = markup`<div class="wide"><table>
    <thead>
      <tr>
        <th>scenario</th>
        <th>target</th>
        <th>profile</th>
        <th>file</th>
      </tr>
    </thead>
    <tbody>
      ${result.scenarios.map(
        (scenario, si) =>
          markup`<tr>
            <td><a href="#${anchorId('s', si)}">${scenario.name}</a></td>
            <td><code>${scenario.target}</code></td>
            <td>${scenario.profile.name}</td>
            <td><code>${scenario.file}</code></td>
          </tr>`,
      )}
    </tbody>
  </table></div>`;
  return markup`<section id="run">
    <h2>Run</h2>
    <dl class="facts">
      <dt>run id</dt>
      <dd><code>${result.runId}</code></dd>
      <dt>started</dt>
      <dd>${result.startedAt}</dd>
      <dt>duration</dt>
      <dd>${formatDuration(result.durationMs)}</dd>
      <dt>seed</dt>
      <dd><code>${result.seed}</code></dd>
      <dt>tool</dt>
      <dd>${result.tool.name} ${result.tool.version}</dd>
      <dt>report folder</dt>
      <dd><code>${reportDir}</code></dd>
      <dt>Toxiproxy proxies</dt>
      <dd>named <code>${result.proxyPrefix}…</code> (removed at the end of the run)</dd>
    </dl>
    <h4>Replay this run (same plan, fresh keys)</h4>
    <pre class="copy">${result.replayCommand}</pre>
    <h4>Fault lanes</h4>
    ${lanes}
    <h4>Scenarios</h4>
    ${scenarios}
  </section>`;
}

export function renderCheckMatrix(result: RunResult, planned: Planned): SafeHtml {
  const checkers = checkerNames(result.scenarios);
  if (checkers.length === 0)
    return markup`<section id="checks">
      <h2>Checks</h2>
      <p class="note">No check ran.</p>
    </section>`;
  const rows = result.scenarios.map((scenario, si) => {
    const cells = checkers.map((checker) => {
      const ci = scenario.checks.findIndex((check) => check.checker === checker);
      const check = scenario.checks[ci];
      if (check === undefined) return markup`<td class="cell not-run" title="not run">&nbsp;</td>`;
      const status = checkStatus(check);
      const title =
        status === 'fail'
          ? `violated: ${plural(check.anomalies.length, 'violation')}`
          : status === 'pass'
            ? `holds (checked ${check.checked})`
            : STATUS_WORD[status];
      const anchor =
        status === 'fail'
          ? planned.firstAnchor.get(`${si}-${ci}`)
          : status === 'unknown'
            ? anchorId('u', si, ci)
            : undefined;
      const symbol = STATUS_SYMBOL[status];
      return anchor === undefined
        ? markup`<td class="cell ${status}" title="${title}">${symbol}</td>`
        : markup`<td class="cell ${status}" title="${title}"><a href="#${anchor}">${symbol}${
            status === 'fail' ? ` ${check.anomalies.length}` : ''
          }</a></td>`;
    });
    const stopped =
      scenario.error === null ? null : markup` <span class="badge unknown">stopped early</span>`;
    return markup`<tr>
      <th><a href="#${anchorId('s', si)}">${scenario.name}</a>${stopped}</th>
      ${cells}
    </tr>`;
  });
  return markup`<section id="checks">
    <h2>Checks</h2>
    <div class="wide">
      <table class="matrix">
        <thead>
          <tr>
            <th>scenario</th>
            ${checkers.map((checker) => markup`<th>${breakable(checker)}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
    </div>
    <p class="note">
      ✓ holds · ✗ violated (number of violations; click for the first) · ? unknown · – not
      applicable
    </p>
  </section>`;
}
