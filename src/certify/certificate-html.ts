import { pageHead } from '../report/html-page.js';
import { markup } from '../report/html-escape.js';
import { partHeadings, type Certificate } from './certify.js';
import type { RequirementResult } from './requirements.js';

/** Anomalies shown in full per requirement; the run's index.html has every one. */
const SHOWN_ANOMALIES = 5;

const STYLE = markup`<style>
  body { font: 15px/1.5 system-ui, sans-serif; color: #1b1f24; background: #f6f7f9; margin: 0; }
  main { max-width: 980px; margin: 2rem auto; background: #fff; padding: 2rem 2.5rem;
    border: 1px solid #d0d7de; border-radius: 8px; }
  h1 { font-size: 1.5rem; margin: 0 0 0.25rem; }
  .verdict { font-size: 1.25rem; font-weight: 700; padding: 0.5rem 0.75rem; border-radius: 6px;
    display: inline-block; margin: 0.75rem 0; }
  .certified { background: #dafbe1; color: #116329; }
  .not-certified { background: #ffebe9; color: #a40e26; }
  .incomplete { background: #fff8c5; color: #7d4e00; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
  dt { color: #57606a; } dd { margin: 0; overflow-wrap: anywhere; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
  th, td { text-align: left; vertical-align: top; padding: 0.5rem; border-top: 1px solid #d0d7de; }
  h2 { font-size: 1.15rem; margin: 1.5rem 0 0.25rem; }
  h2.diverges, h2.found { color: #a40e26; } h2.conforms, h2.none { color: #116329; }
  h2.undecided { color: #7d4e00; }
  td.holds { color: #116329; } td.violated { color: #a40e26; } td.unknown { color: #7d4e00; }
  td { overflow-wrap: anywhere; }
  td:first-child, td.holds, td.violated, td.unknown { white-space: nowrap; overflow-wrap: normal; }
  code { font: 13px ui-monospace, monospace; background: #f6f8fa; padding: 0 0.2rem; }
  ul { margin: 0.25rem 0 0; padding-left: 1.2rem; }
  footer { margin-top: 1.5rem; color: #57606a; font-size: 13px; }
</style>`;

function requirementRows(requirements: readonly RequirementResult[]): ReturnType<typeof markup>[] {
  return requirements.map(
    (requirement) => markup`<tr>
      <td><strong>${requirement.id}</strong></td>
      <td>${requirement.text}</td>
      <td class="${requirement.verdict}"><strong>${requirement.verdict}</strong></td>
      <td>${requirement.evidence}${
        requirement.anomalies.length === 0
          ? ''
          : markup`<ul>${requirement.anomalies
              .slice(0, SHOWN_ANOMALIES)
              .map(
                (anomaly) =>
                  markup`<li>${anomaly.key === null ? '' : markup`<code>${anomaly.key}</code>: `}expected ${anomaly.expected}; got ${anomaly.actual}</li>`,
              )}${
              requirement.anomalies.length > SHOWN_ANOMALIES
                ? markup`<li>and ${requirement.anomalies.length - SHOWN_ANOMALIES} more in index.html</li>`
                : ''
            }</ul>`
      }</td>
    </tr>`,
  );
}

const TABLE_HEAD = markup`<thead><tr><th>#</th><th>requirement</th><th>verdict</th><th>evidence</th></tr></thead>`;

/** certificate.html: one page, no script, the same CSP as the run's report. */
export function renderCertificatePage(certificate: Certificate): string {
  const state = certificate.verdict.replace(' ', '-');
  const headings = partHeadings(certificate);
  const suggestion = certificate.suggestedProfile;
  const page = markup`${pageHead(`${certificate.title} · ${certificate.verdict}`, STYLE)}
<body>
<main>
<h1>${certificate.title}</h1>
<div class="verdict ${state}">${certificate.summary}</div>
<dl>
  <dt>target</dt><dd><code>${certificate.target}</code></dd>
  <dt>profile</dt><dd>${certificate.profile.name}: ${certificate.profile.version}</dd>
  <dt>rules</dt><dd>${certificate.profile.source}</dd>
  <dt>profile sha256</dt><dd><code>${certificate.profile.sha256}</code></dd>
  <dt>date</dt><dd>${certificate.date}</dd>
  <dt>tested with</dt><dd>${certificate.tool.name} ${certificate.tool.version}, run ${certificate.runId}, seed ${certificate.seed}</dd>
  <dt>scenario</dt><dd>${certificate.scenario.name} (<code>${certificate.scenario.file}</code>)</dd>
  <dt>adjustments</dt><dd>${certificate.adjustments.length === 0 ? 'none' : certificate.adjustments.join('; ')}</dd>
  <dt>replay</dt><dd><code>${certificate.replayCommand}</code></dd>
</dl>
<section id="conformance">
<h2 class="${certificate.conformance.verdict}">${headings.conformance}</h2>
<p>The choices the profile makes, which another API may make differently: a target that differs
here conforms to another profile.</p>
<table>${TABLE_HEAD}<tbody>${requirementRows(certificate.conformance.requirements)}</tbody></table>
</section>
<section id="defects">
<h2 class="${certificate.defects.verdict}">${headings.defects}</h2>
<p>What no profile can excuse: more effects than allowed, a different replay, an accepted
mismatch, a stuck key, cross-tenant leakage.</p>
<table>${TABLE_HEAD}<tbody>${requirementRows(certificate.defects.requirements)}</tbody></table>
</section>${
    suggestion === undefined
      ? ''
      : markup`
<section id="suggested-profile">
<h2>Suggested profile</h2>
<p><code>${suggestion.file}</code> extends <code>${suggestion.extends}</code>${
          suggestion.changes.length === 0
            ? markup`; no choice differed.`
            : markup`, with: <ul>${suggestion.changes.map((change) => markup`<li>${change}</li>`)}</ul>`
        }</p>
<p>${suggestion.fits ? 'Judged again on the recorded history, every choice of it holds.' : 'Judged again on the recorded history, some choices still do not hold.'}</p>
</section>`
  }
<footer>Every attempt behind this evidence is in <a href="index.html">index.html</a>,
results.json and history.jsonl in the same folder.</footer>
</main>
</body>
</html>
`;
  return page.markup;
}
