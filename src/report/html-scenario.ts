import type { Attempt } from '../history/events.js';
import type { ScenarioResult } from '../run/result.js';
import type { Profile } from '../scenario/profile.js';
import { markup, type SafeHtml } from './html-escape.js';
import { count, ms } from './html-format.js';
import type { LanePalette } from './html-lanes.js';
import { renderHistogram } from './html-histogram.js';
import { renderTimeline } from './html-timeline.js';
import type { HistoryIndex } from './history-index.js';
import { clip } from './printable.js';
import { insecureWarning, transportLine } from './transport-text.js';
import { checkStatus, formatDuration, STATUS_WORD } from './verdict.js';

/**
 * A scenario's section: what it ran against and with which profile, its patterns, its latency
 * histogram, and timelines of up to 40 keys without anomalies (keys with anomalies have theirs
 * in their violation). Keys with failed, unknown or missing outcomes are picked first.
 */

export const MAX_OTHER_TIMELINES = 40;
const MAX_KEY_LINKS = 200;

function statuses(list: readonly number[]): string {
  return list.length === 0 ? 'none' : list.join(' or ');
}

export function profileFacts(profile: Profile): SafeHtml {
  const missingKey =
    profile.missingKey.expect === 'refused'
      ? `refused with ${statuses(profile.missingKey.status)}`
      : 'processed normally';
  const ignore = [
    profile.replayIgnore.headers.length > 0
      ? `headers ${profile.replayIgnore.headers.join(', ')}`
      : null,
    profile.replayIgnore.jsonPaths.length > 0
      ? `JSON paths ${profile.replayIgnore.jsonPaths.join(', ')}`
      : null,
  ].filter((part) => part !== null);
  const rows: (readonly [string, string])[] = [
    ['same key, different payload', statuses(profile.mismatchStatus)],
    ['duplicate while in flight', `${statuses(profile.inFlightStatus)} or an identical replay`],
    ['request without key', missingKey],
    [
      'replay header',
      profile.replayHeader === null
        ? 'none required'
        : `${profile.replayHeader.name}: ${profile.replayHeader.value}`,
    ],
    ['headers a replay repeats', profile.significantHeaders.join(', ') || 'none'],
    [
      'replay comparison ignores',
      ignore.length > 0 ? ignore.join('; ') : 'nothing (every byte counts)',
    ],
    ['retries after a 5xx first attempt', profile.firstAttempt5xx],
    [
      'key retention',
      profile.retentionMs === null ? 'not declared' : formatDuration(profile.retentionMs),
    ],
    [
      'in-progress takeover after',
      profile.inProgressTimeoutMs === null
        ? 'not declared'
        : formatDuration(profile.inProgressTimeoutMs),
    ],
    ...profileOrigin(profile),
  ];
  return markup`<details>
    <summary>profile <strong>${profile.name}</strong></summary>
    <dl class="facts">
      ${rows.map(
        ([name, value]) =>
          markup`<dt>${name}</dt>
            <dd>${value}</dd>`,
      )}
    </dl>
  </details>`;
}

/** Where the profile came from, and the fields the scenario's overrides replaced. */
function profileOrigin(profile: Profile): (readonly [string, string])[] {
  return [
    ...(profile.source === undefined
      ? []
      : [['source', `${profile.source} (sha256 ${profile.sha256 ?? 'unknown'})`] as const]),
    ...((profile.overridden ?? []).length === 0
      ? []
      : [
          [
            'note',
            `the scenario's overrides replace ${(profile.overridden ?? []).join(', ')} (they win over the profile)`,
          ] as const,
        ]),
  ];
}

function outcomeOf(attempt: Attempt): string {
  const completion = attempt.completion;
  if (completion === undefined) return '…';
  if (completion.type === 'ok') return String(completion.response.status);
  return completion.type === 'fail' ? '✕' : '?';
}

function interesting(attempts: readonly Attempt[]): boolean {
  return attempts.some((attempt) => attempt.completion?.type !== 'ok');
}

function otherTimelines(
  scenario: ScenarioResult,
  anomalyKeys: ReadonlySet<string>,
  index: HistoryIndex,
  palette: LanePalette,
): SafeHtml {
  const history = index.scenario(scenario.name);
  const first: [string, readonly Attempt[]][] = [];
  const rest: [string, readonly Attempt[]][] = [];
  let others = 0;
  for (const entry of history.byKey) {
    if (anomalyKeys.has(entry[0])) continue;
    others++;
    if (first.length >= MAX_OTHER_TIMELINES) continue;
    if (interesting(entry[1])) first.push(entry);
    else if (rest.length < MAX_OTHER_TIMELINES) rest.push(entry);
  }
  const chosen = [...first, ...rest].slice(0, MAX_OTHER_TIMELINES);
  chosen.sort((a, b) => (a[1][0]?.invoke.index ?? 0) - (b[1][0]?.invoke.index ?? 0));
  if (others === 0) return markup`<p class="note">No other keys.</p>`;
  const note =
    others > chosen.length
      ? markup`<p class="note">
          Timelines for ${chosen.length} of ${count(others)} keys without anomalies (keys with
          failed or unknown outcomes first); the other ${count(others - chosen.length)} are left
          out to keep this page small. Every attempt is in history.jsonl.
        </p>`
      : null;
  const items = chosen.map(([key, attempts]) => {
    const outcomes = clip(attempts.map(outcomeOf).join(' '), 60);
    return markup`<details>
      <summary>key <code>${key}</code> · ${attempts.length} attempts · ${outcomes}</summary>
      ${renderTimeline(
        {
          title: `key ${key}`,
          attempts,
          probes: history.probesByKey.get(key) ?? [],
          dependencyWindows: history.dependencyWindows,
        },
        palette,
      )}
    </details>`;
  });
  return markup`${note}${items}`;
}

/** Links from each key with an anomaly to its first violation. */
function anomalyKeyLinks(keys: ReadonlyMap<string, string>): SafeHtml | null {
  if (keys.size === 0) return null;
  const shown = [...keys].slice(0, MAX_KEY_LINKS);
  const links = shown.map(([key, anchor], i) => {
    const name = markup`<code>${key}</code>`;
    return markup`${i > 0 ? ', ' : ''}<a href="#${anchor}">${name}</a>`;
  });
  const more = keys.size > shown.length ? ` and ${count(keys.size - shown.length)} more` : '';
  return markup`<p>Keys with anomalies, linked to their first violation (with the key's timeline): ${links}${more}.</p>`;
}

export interface ScenarioSectionInput {
  readonly id: string;
  readonly scenario: ScenarioResult;
  /** Keys with anomalies and the anchor of their first violation. */
  readonly anomalyKeys: ReadonlyMap<string, string>;
}

export function renderScenario(
  input: ScenarioSectionInput,
  index: HistoryIndex,
  palette: LanePalette,
): SafeHtml {
  const { scenario } = input;
  const state = scenario.valid === true ? 'pass' : scenario.valid === false ? 'fail' : 'unknown';
  const word =
    scenario.valid === true ? 'holds' : scenario.valid === false ? 'violated' : 'unknown';
  const error =
    scenario.error === null
      ? null
      : markup`<p class="fail">
          Stopped early: <code>${scenario.error.code}</code> ${scenario.error.message}
        </p>`;
  const transport = scenario.transport ?? null;
  const insecure = insecureWarning(transport);
  const warning =
    insecure === undefined ? null : markup`<p class="fail tls-insecure">⚠ ${insecure}</p>`;
  const patterns =
    scenario.patterns.length === 0
      ? markup`<p class="note">No patterns ran.</p>`
      : markup`<div class="wide"><table>
          <thead>
            <tr>
              <th>pattern</th>
              <th>kind</th>
              <th>attempts</th>
              <th>keys</th>
              <th>notes</th>
            </tr>
          </thead>
          <tbody>
            ${scenario.patterns.map(
              (pattern) =>
                markup`<tr>
                  <td><code>${pattern.id}</code></td>
                  <td>${pattern.kind}</td>
                  <td>${count(pattern.attempts)}</td>
                  <td>${count(pattern.keys)}</td>
                  <td class="note">${pattern.notes.join(' ')}</td>
                </tr>`,
            )}
          </tbody>
        </table></div>`;
  const checks = markup`<ul>
    ${scenario.checks.map((check) => {
      const status = checkStatus(check);
      return markup`<li>
        <span class="${status}">${STATUS_WORD[status]}</span> · ${check.checker} · checked
        ${count(check.checked)}${check.notes.length > 0 ? markup`<span class="note"> · ${check.notes.join(' ')}</span>` : null}
      </li>`;
    })}
  </ul>`;
  const keyLinks = anomalyKeyLinks(input.anomalyKeys);
  const history = index.scenario(scenario.name);
  return markup`<section class="scenario" id="${input.id}">
    <h2>${scenario.name} <span class="badge ${state}">${word}</span></h2>
    ${error} ${warning}
    <dl class="facts">
      <dt>file</dt>
      <dd><code>${scenario.file}</code></dd>
      <dt>target</dt>
      <dd><code>${scenario.target}</code></dd>
      ${transport === null ? null : markup`<dt>transport</dt><dd>${transportLine(transport)}</dd>`}
      <dt>profile</dt>
      <dd>${profileFacts(scenario.profile)}</dd>
      <dt>attempts</dt>
      <dd>
        ${count(scenario.attempts.total)}: ${count(scenario.attempts.ok)} got a response,
        ${count(scenario.attempts.fail)} not sent, ${count(scenario.attempts.info)} outcome unknown
      </dd>
      <dt>latency</dt>
      <dd>
        p50 ${ms(scenario.latency.p50)} · p90 ${ms(scenario.latency.p90)} · p99
        ${ms(scenario.latency.p99)} · max ${ms(scenario.latency.max)}
        (${count(scenario.latency.count)} responses)
      </dd>
      <dt>duration</dt>
      <dd>${formatDuration(scenario.durationMs)}</dd>
    </dl>
    <h4>Checks</h4>
    ${checks}
    <h4>Patterns</h4>
    ${patterns}
    <h4>Response times</h4>
    ${renderHistogram(history.okDurations, scenario.latency)}
    <h4>Timelines</h4>
    ${keyLinks}${otherTimelines(scenario, new Set(input.anomalyKeys.keys()), index, palette)}
  </section>`;
}
