import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../../src/check/types.js';
import type { HistoryEvent } from '../../../src/history/events.js';
import type { RunResult } from '../../../src/run/result.js';
import { escapeHtml } from '../../../src/report/html-escape.js';
import { CSP, renderReportPage } from '../../../src/report/html-page.js';
import { HTML_FILE, htmlReporter } from '../../../src/report/html.js';
import { testContext, type TestContext } from './context.js';
import {
  buildFixture,
  CONTROL,
  DUPLICATE_KEY,
  HOSTILE_ATTRIBUTE,
  HOSTILE_BODY,
  HOSTILE_SCRIPT,
  HOSTILE_URL,
  RAW_HOSTILE_BODY,
  REPLAY_COMMAND,
} from './fixture.js';
import { auditTags } from './html-audit.js';

/** The page with the layout whitespace between tags removed and other runs of space collapsed. */
function flat(page: string): string {
  return page.replace(/>\s+</g, '><').replace(/\s+/g, ' ');
}

function article(page: string, id: string): string {
  const start = page.indexOf(`<article class="violation fail" id="${id}">`);
  if (start === -1) throw new Error(`no violation ${id}`);
  return page.slice(start, page.indexOf('</article>', start));
}

describe('index.html', () => {
  let test: TestContext;
  let page: string;

  beforeEach(async () => {
    test = testContext();
    const { result, history } = buildFixture();
    const files = await htmlReporter(test.context).onEnd(result, history);
    expect(files).toEqual([`${test.context.reportDir}/${HTML_FILE}`]);
    page = readFileSync(files[0] ?? '', 'utf8');
  });
  afterEach(() => test.remove());

  it('is self-contained: a CSP meta, no script, no handler, no link out of the page', () => {
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CSP)}">`,
    );
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/javascript:/i);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).not.toMatch(/\s(src|srcset|action|formaction|style)=/i);
    expect(page).not.toMatch(/url\(/i);
    const tags = auditTags(page);
    const ids = new Set(
      tags.map((tag) => tag.attributes.get('id')).filter((id) => id !== undefined),
    );
    const hrefs = tags
      .map((tag) => tag.attributes.get('href'))
      .filter((href) => href !== undefined);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(ids.has(href.slice(1)), `anchor ${href}`).toBe(true);
    const opened = tags.filter((tag) => !tag.closing && tag.name === 'details').length;
    expect(tags.filter((tag) => tag.closing && tag.name === 'details')).toHaveLength(opened);
  });

  it('shows hostile text only escaped, with control characters made visible', () => {
    for (const hostile of [
      HOSTILE_SCRIPT,
      HOSTILE_ATTRIBUTE,
      HOSTILE_URL,
      RAW_HOSTILE_BODY,
      '"quoted" <b>bold</b>',
    ]) {
      expect(page).not.toContain(hostile);
    }
    expect(page).toContain(escapeHtml(RAW_HOSTILE_BODY));
    expect(page).toContain(escapeHtml(HOSTILE_BODY));
    expect(page).toContain('&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('esc⟨U+001B⟩[31mred');
    expect(escapeHtml(CONTROL)).not.toMatch(/[\u0000-\u0008\u001b]/); // eslint-disable-line no-control-regex
    expect(page).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/); // eslint-disable-line no-control-regex
  });

  it('tells the run: verdict, replay command, lanes, scenarios × checks linked to violations', () => {
    const text = flat(page);
    expect(text).toContain(
      '<header class="banner fail"><h1>FAIL&#58; 2 defects (2 violations) in 2 checks',
    );
    // The defects lead, each with its count and its first violation in full.
    expect(text).toContain('<section id="defects"><h2>Defects: 2 defects (2 violations)</h2>');
    expect(text.indexOf('id="defects"')).toBeLessThan(text.indexOf('id="violations"'));
    expect(text).toContain('1. duplicate effect · 1 violation</h3>');
    expect(text).toContain('<article class="violation fail" id="d-1">');
    expect(text).toContain('<a href="#defect-1">1. duplicate effect</a>');
    expect(text).toContain('<article class="defect" id="defect-1">');
    expect(text).toContain(`<pre class="copy">${escapeHtml(REPLAY_COMMAND)}</pre>`);
    expect(text).toContain('downstream reset_peer timeout&#61;0');
    // The ✗ cells land on the check's first violation, told in full under its defect.
    expect(text).toContain('<a href="#d-1">✗ 1</a>');
    expect(text).not.toContain('href="#v-1-0-0"');
    expect(text).toContain('<a href="#u-1-3">?</a>');
    expect(text).toContain('class="cell not-applicable"');
  });

  it('shows each violation with its attempts, timeline, diff and curl', () => {
    const text = flat(page);
    const duplicate = article(text, 'd-1');
    expect(duplicate).toContain(`<svg class="chart"`);
    expect(duplicate).toContain(`aria-label="timeline of key ${escapeHtml(DUPLICATE_KEY)}"`);
    expect(duplicate).toContain('Outcome unknown');
    expect(duplicate).toContain('count <strong>2</strong>');
    expect(duplicate).toContain('Reproduce with curl');
    expect(duplicate).toContain('<text class="end info"');
    const replay = article(text, 'd-2');
    expect(replay).toContain('Body differences');
    expect(replay).toContain('<code>$.status</code>');
    // Diff lines are inside <pre>: their spaces are kept.
    expect(page).toContain(
      '<span class="del">-   &quot;status&quot;&#58; &quot;captured&quot;,</span>',
    );
    expect(page).toContain('<span class="ins">+   &quot;extra&quot;&#58; true</span>');
    expect(text).toContain('aria-label="response time histogram"');
  });

  it('tells each violation in full once, the Violations section linking to its defect', () => {
    const text = flat(page);
    // Two violations, each the first of a defect: two full tellings, each with its curl.
    expect(text.split('Reproduce with curl')).toHaveLength(3);
    expect(text.split(`aria-label="timeline of key ${escapeHtml(DUPLICATE_KEY)}"`)).toHaveLength(2);
    const violations = text.slice(text.indexOf('<section id="violations">'));
    const stub = violations.slice(
      violations.indexOf('<article class="violation fail elsewhere" id="v-1-0-0">'),
    );
    expect(stub).toMatch(/^<article[^>]*>.*?<a href="#d-1">told in full under Defects<\/a>/);
    expect(stub.slice(0, stub.indexOf('</article>'))).not.toContain('<svg');
    expect(violations).toContain('<a href="#d-2">told in full under Defects</a>');
    // Keys with anomalies link to the full telling too.
    expect(text).toContain(`<a href="#d-1"><code>${escapeHtml(DUPLICATE_KEY)}</code></a>`);
    // Each defect lists its symptoms, the first example linked.
    expect(text).toContain(
      '<h4>1 symptom</h4><ul class="symptoms"><li class="symptom">duplicate effect · 1 violation · effectsPerKey · first: <a href="#d-1">key',
    );
  });

  it('cuts displayed bodies at 4 KiB and says how much is left', () => {
    const { result, history } = buildFixture();
    const big = `${'é'.repeat(3000)}<script>`;
    const changed = history.map((event) =>
      event.type === 'ok' && event.op === 'f.a2'
        ? {
            ...event,
            response: { ...event.response, body: big, bodyBytes: Buffer.byteLength(big) },
          }
        : event,
    );
    const text = renderReportPage(result, changed, '/tmp/r');
    expect(text).toContain(
      `(${(Buffer.byteLength(big) - 4096).toLocaleString('en-US')} more bytes)`,
    );
    expect(text).not.toContain('<script>');
  });
});

/**
 * 10^5 events: 25,000 keys × 2 attempts × (invoke, ok), and a duplicate effect on 4 keys of 5
 * (an API that ignores the key): 20,000 violations.
 */
function bigRun(): { result: RunResult; history: HistoryEvent[] } {
  const { result } = buildFixture();
  const history: HistoryEvent[] = [];
  const anomalies: Anomaly[] = [];
  const body = JSON.stringify({
    id: 'pay_x',
    amount: 100,
    note: `${HOSTILE_SCRIPT}${'x'.repeat(200)}`,
  });
  const response = {
    status: 201,
    headers: [['content-type', 'application/json']] as const,
    body,
    bodyBytes: body.length,
    bodySha256: 'f'.repeat(64),
    bodyTruncated: false,
  };
  const request = {
    method: 'POST',
    url: 'http://127.0.0.1:41000/p',
    targetUrl: 'http://127.0.0.1:8080/p',
    headers: [],
    body: '{}',
  };
  for (let attempt = 0; attempt < 50_000; attempt++) {
    const index = history.length;
    const key = `key-${attempt >> 1}`;
    const op = `big.a${attempt}`;
    history.push(
      {
        index,
        time: index,
        scenario: 'big',
        type: 'invoke',
        op,
        pattern: 'sequential-duplicates#1',
        patternKind: 'sequential-duplicates',
        label: attempt % 2 === 0 ? 'original' : 'retry 1',
        key,
        keySent: true,
        tenant: null,
        variant: 'original',
        marker: `m${attempt >> 1}`,
        lane: attempt % 7 === 0 ? 'lost-response' : 'clean',
        group: null,
        resource: null,
        sequence: null,
        request,
        timeoutMs: 2000,
      },
      {
        index: index + 1,
        time: index + 3,
        scenario: 'big',
        type: 'ok',
        op,
        durationMs: 3,
        response,
      },
    );
    if (attempt % 2 === 1 && (attempt >> 1) % 5 !== 0) {
      anomalies.push({
        kind: 'duplicate-effect',
        key,
        tenant: null,
        events: [index - 2, index - 1, index, index + 1],
        expected: 'one effect',
        actual: '2 effects',
        message: `Key ${key} made 2 payments.`,
        curl: `curl -X POST http://127.0.0.1:8080/payments -H 'idempotency-key: ${key}'`,
      });
    }
  }
  const scenario = result.scenarios[1];
  if (scenario === undefined) throw new Error('fixture changed');
  return {
    result: {
      ...result,
      scenarios: [
        {
          ...scenario,
          name: 'big',
          attempts: { total: 50_000, ok: 50_000, fail: 0, info: 0 },
          checks: [
            { checker: 'effectsPerKey', valid: false, checked: 25_000, anomalies, notes: [] },
          ],
        },
      ],
    },
    history,
  };
}

describe('index.html of a large run', () => {
  it('stays under 10 MB for 10^5 events, keeps every violation, and says what it left out', () => {
    const { result, history } = bigRun();
    expect(history).toHaveLength(100_000);
    const page = renderReportPage(result, history, '/tmp/r');
    expect(Buffer.byteLength(page)).toBeLessThan(10 * 1024 * 1024);
    const text = flat(page);
    for (const id of ['v-0-0-0', 'v-0-0-49', 'v-0-0-50', 'v-0-0-19999'])
      expect(page).toContain(`id="${id}"`);
    expect(text).toContain('Timelines for 40 of 5,000 keys without anomalies');
    expect(text).toContain('the other 4,960 are left out');
    expect(text).toContain('the other 19,950 are one table row each');
    expect(text).toContain('<tr id="v-0-0-19999">');
    auditTags(page);
  });
});
