import type { Anomaly } from '../check/types.js';
import type {
  Attempt,
  DownstreamEvent,
  HistoryEvent,
  LaneEvent,
  ProbeEvent,
  PublishEvent,
} from '../history/events.js';
import type { ScenarioResult } from '../run/result.js';
import { renderAttempt, renderDownstreamCall, renderProbe, renderPublish } from './html-attempt.js';
import { renderBodyDiffs } from './html-diff.js';
import { markup, type SafeHtml } from './html-escape.js';
import { ms } from './html-format.js';
import type { LanePalette } from './html-lanes.js';
import { renderTimeline } from './html-timeline.js';
import { dependencyFaultsAt, type HistoryIndex } from './history-index.js';
import { STATUS_SYMBOL } from './verdict.js';

/**
 * One anomaly, told in full: what happened, what was expected, the curl command, the body
 * differences, the key's timeline, and every attempt, probe and lane event its `events` point
 * at, looked up in the history. Beyond the detailed ones, anomalies are rows of one table
 * (`renderViolationRows`), which keeps runs where every key fails readable. An anomaly told in
 * full elsewhere on the page (a defect's first violation) is its heading and a link there, so
 * no violation is told in full twice.
 */

export interface ViolationView {
  /** A generated anchor id. */
  readonly id: string;
  readonly scenario: ScenarioResult;
  readonly checker: string;
  readonly anomaly: Anomaly;
  /** 'fail' for a violated check, 'unknown' for an anomaly of an undecided check. */
  readonly status: 'fail' | 'unknown';
  /** Shown with attempts, diffs and timeline (true) or as a table row (false). */
  readonly detailed: boolean;
  /** The anchor where it is told in full instead (a defect's first violation); unset: here. */
  readonly shownAt?: string;
}

interface Involved {
  readonly attempts: Attempt[];
  readonly probes: ProbeEvent[];
  readonly lanes: LaneEvent[];
  readonly calls: DownstreamEvent[];
  /** Messages published to a consumer's broker (consumer scenarios). */
  readonly publishes: PublishEvent[];
  /** Indexes of the dependency-fault events the anomaly names. */
  readonly dependencies: number[];
  readonly missing: number[];
}

function involved(anomaly: Anomaly, index: HistoryIndex): Involved {
  const attempts = new Map<string, Attempt>();
  const probes: ProbeEvent[] = [];
  const lanes: LaneEvent[] = [];
  const calls: DownstreamEvent[] = [];
  const publishes: PublishEvent[] = [];
  const dependencies: number[] = [];
  const missing: number[] = [];
  for (const position of anomaly.events) {
    const event: HistoryEvent | undefined = index.byIndex.get(position);
    if (event === undefined) {
      missing.push(position);
      continue;
    }
    switch (event.type) {
      case 'probe':
        probes.push(event);
        break;
      case 'fault':
      case 'heal':
        lanes.push(event);
        break;
      case 'downstream':
        calls.push(event);
        break;
      case 'publish':
        publishes.push(event);
        break;
      case 'dependency-fault':
        dependencies.push(event.index);
        break;
      case 'hook':
      case 'dependency-heal':
      case 'process':
        break;
      default: {
        const attempt = index.attemptByOp.get(event.op);
        if (attempt === undefined) missing.push(position);
        else attempts.set(event.op, attempt);
      }
    }
  }
  const sorted = [...attempts.values()].sort(
    (a, b) => a.invoke.time - b.invoke.time || a.invoke.index - b.invoke.index,
  );
  publishes.sort((a, b) => a.index - b.index);
  return { attempts: sorted, probes, lanes, calls, publishes, dependencies, missing };
}

function heading(view: ViolationView): SafeHtml {
  const { anomaly } = view;
  const where = [
    view.scenario.name,
    view.checker,
    anomaly.key === null ? null : `key ${anomaly.key}`,
    anomaly.tenant === null ? null : `tenant ${anomaly.tenant}`,
  ].filter((part) => part !== null);
  return markup`<span class="sym ${view.status}">${STATUS_SYMBOL[view.status]}</span>
    <span class="kind">${anomaly.kind}</span> · ${where.join(' · ')}`;
}

function facts(view: ViolationView): SafeHtml {
  const { anomaly } = view;
  const curl =
    anomaly.curl === undefined
      ? null
      : markup`<h4>Reproduce with curl</h4>
          <pre class="copy">${anomaly.curl}</pre>`;
  return markup`<p class="message">${anomaly.message}</p>
    <div class="expect">
      <div>
        <h4>Expected</h4>
        <p>${anomaly.expected}</p>
      </div>
      <div>
        <h4>Actual</h4>
        <p>${anomaly.actual}</p>
      </div>
    </div>
    ${curl}`;
}

function eventList(anomaly: Anomaly): SafeHtml {
  return markup`<p class="note">
    Events:
    ${anomaly.events.length === 0 ? 'none' : anomaly.events.map((position) => `#${position}`).join(', ')}
    (indexes in history.jsonl)
  </p>`;
}

/** A violation told in full elsewhere on the page: its heading and a link there. */
function renderElsewhere(view: ViolationView, shownAt: string): SafeHtml {
  return markup`<article class="violation ${view.status} elsewhere" id="${view.id}">
    <h3>${heading(view)}</h3>
    <p class="message">${view.anomaly.message}</p>
    <p class="note">The first violation of a defect: <a href="#${shownAt}">told in full under Defects</a>.</p>
  </article>`;
}

export function renderViolation(
  view: ViolationView,
  index: HistoryIndex,
  palette: LanePalette,
): SafeHtml {
  if (view.shownAt !== undefined) return renderElsewhere(view, view.shownAt);
  const found = involved(view.anomaly, index);
  const ops = new Set(found.attempts.map((attempt) => attempt.invoke.op));
  const scenarioHistory = index.scenario(view.scenario.name);
  const key = view.anomaly.key;
  // The key's whole story, plus any attempt the anomaly points at under another key.
  const keyAttempts = key === null ? [] : (scenarioHistory.byKey.get(key) ?? []);
  const timelineAttempts = [...keyAttempts, ...found.attempts.filter((a) => a.invoke.key !== key)];
  const keyProbes =
    key === null ? found.probes : (scenarioHistory.probesByKey.get(key) ?? found.probes);
  // The downstream calls the anomaly points at, unless the key's own story holds them.
  const timelineProbes = [
    ...keyProbes,
    ...found.calls.filter((call) => !keyProbes.includes(call)),
  ].sort((a, b) => a.time - b.time || a.index - b.index);
  const timeline =
    timelineAttempts.length + timelineProbes.length === 0
      ? null
      : markup`<h4>Timeline${key === null ? '' : markup` of key <code>${key}</code>`}</h4>
          ${renderTimeline(
            {
              title: key === null ? view.anomaly.kind : `key ${key}`,
              attempts: timelineAttempts,
              probes: timelineProbes,
              highlight: ops,
              dependencyWindows: scenarioHistory.dependencyWindows,
            },
            palette,
          )}`;
  const attempts =
    found.attempts.length === 0
      ? null
      : markup`<h4>Attempts involved (${found.attempts.length})</h4>
          ${found.attempts.map((attempt) => renderAttempt(attempt, palette, true))}`;
  const probes =
    found.probes.length === 0
      ? null
      : markup`<h4>Probe readings</h4>
          <ul class="probes">
            ${found.probes.map(renderProbe)}
          </ul>`;
  const calls =
    found.calls.length === 0
      ? null
      : markup`<h4>Downstream calls (${found.calls.length})</h4>
          <ul class="probes">
            ${found.calls.map(renderDownstreamCall)}
          </ul>`;
  const published =
    found.publishes.length === 0
      ? null
      : markup`<h4>Messages published (${found.publishes.length})</h4>
          <ul class="probes">
            ${found.publishes.map(renderPublish)}
          </ul>`;
  // Dependency faults the anomaly names, or held while one of its attempts was sent.
  const heldDuring = scenarioHistory.dependencyWindows.filter(
    (window) =>
      found.dependencies.includes(window.fault.index) ||
      found.attempts.some(
        (attempt) => dependencyFaultsAt([window], attempt.invoke.time).length > 0,
      ),
  );
  const dependencies =
    heldDuring.length === 0
      ? null
      : markup`<h4>Dependency faults</h4>
          <ul>
            ${heldDuring.map((window) => markup`<li>#${window.fault.index} at ${ms(window.fault.time)}: ${window.fault.detail}; ${window.heal === undefined ? 'never healed' : `healed at ${ms(window.heal.time)} (#${window.heal.index})`}${found.attempts.some((attempt) => dependencyFaultsAt([window], attempt.invoke.time).length > 0) ? ': sent while it was held' : ''}</li>`)}
          </ul>`;
  const lanes =
    found.lanes.length === 0
      ? null
      : markup`<h4>Fault lanes</h4>
          <ul>
            ${found.lanes.map((event) => markup`<li>#${event.index} at ${ms(event.time)}: ${event.type} lane ${event.lane}: ${event.toxics}</li>`)}
          </ul>`;
  const missing =
    found.missing.length === 0
      ? null
      : markup`<p class="note">
          Events not found in the history:
          ${found.missing.map((position) => `#${position}`).join(', ')}.
        </p>`;
  return markup`<article class="violation ${view.status}" id="${view.id}">
    <h3>${heading(view)}</h3>
    ${facts(view)}${renderBodyDiffs(found.attempts)}${timeline}${attempts}${published}${probes}${calls}${dependencies}${lanes}${missing}${eventList(view.anomaly)}
  </article>`;
}

/**
 * Anomalies as rows of one table: key, kind, message, expected (a column only when they
 * differ), actual and event indexes. Each row keeps its anchor.
 */
export function renderViolationRows(views: readonly ViolationView[]): SafeHtml | null {
  const first = views[0];
  if (first === undefined) return null;
  const sameExpected = views.every((view) => view.anomaly.expected === first.anomaly.expected);
  const rows = views.map((view) => {
    const { anomaly } = view;
    const key = anomaly.key === null ? '–' : anomaly.key;
    const tenant =
      anomaly.tenant === null ? null : markup` <span class="note">${anomaly.tenant}</span>`;
    const expected = sameExpected ? null : markup`<td>${anomaly.expected}</td>`;
    const events = anomaly.events.map((position) => `#${position}`).join(' ');
    const elsewhere =
      view.shownAt === undefined
        ? null
        : markup` <a href="#${view.shownAt}">(told in full under Defects)</a>`;
    return markup`<tr id="${view.id}"><td><code>${key}</code>${tenant}</td><td>${anomaly.kind}</td><td>${anomaly.message}${elsewhere}</td>${expected}<td>${anomaly.actual}</td><td>${events}</td></tr>\n`;
  });
  const caption = sameExpected
    ? markup`<p>Expected for all of them: ${first.anomaly.expected}</p>`
    : null;
  return markup`<details class="rows" open><summary>${views.length} more of ${first.scenario.name} · ${first.checker}, one row each</summary>${caption}
    <div class="wide"><table class="rows"><thead><tr><th>key</th><th>kind</th><th>message</th>${sameExpected ? null : markup`<th>expected</th>`}<th>actual</th><th>events</th></tr></thead>
    <tbody>${rows}</tbody></table></div></details>`;
}
