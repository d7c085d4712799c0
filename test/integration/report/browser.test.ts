/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions given to page.evaluate run in the browser: DOM types for them (src/ is built
// without DOM types by tsconfig.build.json, so none of it can come to rely on them).
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeaderList, HistoryEvent } from '../../../src/history/events.js';
import { CSP } from '../../../src/report/html-page.js';
import { HTML_FILE } from '../../../src/report/html.js';
import { showControls } from '../../../src/report/printable.js';
import { createReporters } from '../../../src/report/registry.js';
import type { RunResult, ScenarioResult } from '../../../src/run/result.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { launchChromium } from '../../support/browser.js';
import { testContext, type TestContext } from '../../unit/report/context.js';
import { buildFixture, HistoryBuilder } from '../../unit/report/fixture.js';

/**
 * The HTML report opened in a real headless Chromium, from a run whose target answered with
 * script, markup and URLs in every string the report shows: bodies (JSON and not), header names
 * and values, error messages, keys, tenants, scenario names and the check messages built from
 * them. Nothing may run, nothing may load, and every payload must be shown as text.
 */

const ARTIFACTS = fileURLToPath(new URL('../../../reports/tests/artifacts/', import.meta.url));
const SCREENSHOT = join(ARTIFACTS, 'report-hostile.png');

/** Requests that reach this server came from the page: there must be none. */
interface Canary {
  readonly url: string;
  readonly hits: string[];
  close(): Promise<void>;
}

async function startCanary(): Promise<Canary> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every trick, tagged with the place it is put, so a hit names the place that let it through. */
function payloads(place: string, canary: string): string[] {
  return [
    `</script><script>window.__pwned='${place}'</script>`,
    `<img src=x onerror="window.__pwned='${place}'">`,
    `<svg onload="window.__pwned='${place}'"></svg>`,
    `<a href="javascript:window.__pwned='${place}'">click</a>`,
    `<iframe srcdoc="<script>parent.__pwned='${place}'</script>"></iframe>`,
    `<meta http-equiv="refresh" content="0;url=${canary}/refresh/${place}">`,
    `<base href="${canary}/base/${place}/">`,
    `<link rel=stylesheet href=${canary}/link/${place}.css>`,
    `<style>@import url(${canary}/import/${place}.css); body { background: url(${canary}/bg/${place}.png) }</style>`,
    `<form action=${canary}/form/${place}><button>pay</button></form>`,
    `<object data=${canary}/object/${place}></object>`,
    `invoice-${place}\u202Efdp.exe`,
    `<!-- ${place} --!><plaintext>`,
  ];
}

/** The places the report shows a target-controlled string, each with its own payloads. */
const PLACES = [
  'scenario',
  'key',
  'tenant',
  'request-body',
  'response-body',
  'header-name',
  'header-value',
  'info-error',
  'fail-error',
  'probe-error',
  'message',
  'expected',
  'actual',
  'curl',
  'check-note',
  'scenario-error',
  'url',
] as const;
type Place = (typeof PLACES)[number];

const LONG_LINE = `${'L'.repeat(2500)}<script>window.__pwned='long-line'</script>`;

interface HostileRun {
  readonly result: RunResult;
  readonly history: readonly HistoryEvent[];
  /** What each place carries. */
  readonly text: Record<Place, string>;
  /** JSON bodies, shown as they came (so the payloads inside are JSON-quoted). */
  readonly jsonBodies: readonly string[];
}

function scenarioResult(
  partial: Pick<ScenarioResult, 'name' | 'valid' | 'checks' | 'error'>,
): ScenarioResult {
  return {
    file: 'scenarios/hostile.yaml',
    target: 'http://127.0.0.1:8080',
    profile: PROFILES.default,
    patterns: [{ id: 'lost-response#1', kind: 'lost-response', attempts: 5, keys: 2, notes: [] }],
    attempts: { total: 5, ok: 3, fail: 1, info: 1 },
    latency: { count: 3, p50: 12, p90: 12, p99: 12, max: 12 },
    durationMs: 1500,
    ...partial,
  };
}

function hostileRun(canary: string): HostileRun {
  const text = Object.fromEntries(
    PLACES.map((place) => [place, payloads(place, canary).join(' ')]),
  ) as Record<Place, string>;
  const scenario = text.scenario;
  const key = text.key;
  const replayKey = `k-replay ${text.key}`;
  const headers: HeaderList = [
    ['content-type', 'text/html'],
    [text['header-name'], text['header-value']],
    ['location', `javascript:window.__pwned='location'`],
  ];
  const jsonFirst = JSON.stringify({ id: 'pay_1', note: text['response-body'] });
  const jsonReplay = JSON.stringify({
    id: 'pay_1',
    note: text['response-body'],
    [`<svg onload="window.__pwned='json-key'">`]: `javascript:window.__pwned='json-value'`,
  });

  const h = new HistoryBuilder();
  h.lane('clean', 'none');
  h.lane('lost-response', 'downstream reset_peer timeout=0');
  const url = `http://127.0.0.1:41000/payments?q=${encodeURIComponent('x')}&${text.url}`;
  // A lost response, then a retry that charged again.
  const invoke1 = h.invoke(scenario, 'a1', key, {
    lane: 'lost-response',
    kind: 'lost-response',
    tenant: text.tenant,
    body: text['request-body'],
    url,
  });
  const info1 = h.info(scenario, 'a1', text['info-error']);
  const invoke2 = h.invoke(scenario, 'a2', key, {
    label: 'retry 1',
    kind: 'lost-response',
    tenant: text.tenant,
    body: text['request-body'],
  });
  const ok2 = h.ok(scenario, 'a2', 201, `${text['response-body']}\n${LONG_LINE}`, headers);
  const probe = h.probe(scenario, key, { ok: true, count: 2 });
  const badProbe = h.probe(scenario, key, { ok: false, error: text['probe-error'] });
  // A replay whose JSON body differs, so the body diff renders.
  const invoke3 = h.invoke(scenario, 'a3', replayKey, { tenant: text.tenant });
  const ok3 = h.ok(scenario, 'a3', 201, jsonFirst, headers);
  const invoke4 = h.invoke(scenario, 'a4', replayKey, { label: 'retry 1', tenant: text.tenant });
  const ok4 = h.ok(scenario, 'a4', 200, jsonReplay, headers);
  // An attempt that certainly failed, with a hostile error message.
  const invoke5 = h.invoke(scenario, 'a5', replayKey, { label: 'retry 2' });
  const last = h.events[h.events.length - 1];
  const fail5 = h.events.length;
  h.events.push({
    index: fail5,
    time: (last?.time ?? 0) + 1,
    scenario,
    type: 'fail',
    op: 'a5',
    durationMs: 1,
    error: { code: 'ECONNREFUSED', message: text['fail-error'] },
  });

  const violated = scenarioResult({
    name: scenario,
    valid: false,
    error: null,
    checks: [
      {
        checker: 'effectsPerKey',
        valid: false,
        checked: 1,
        anomalies: [
          {
            kind: 'duplicate-effect',
            key,
            tenant: text.tenant,
            events: [invoke1, info1, invoke2, ok2, probe, badProbe],
            expected: text.expected,
            actual: text.actual,
            message: text.message,
            curl: text.curl,
          },
        ],
        notes: [],
      },
      {
        checker: 'replayIdenticalResponses',
        valid: false,
        checked: 1,
        anomalies: [
          {
            kind: 'replay-body-differs',
            key: replayKey,
            tenant: text.tenant,
            events: [invoke3, ok3, invoke4, ok4, invoke5, fail5],
            expected: 'the replay repeats status 201 and the body byte for byte',
            actual: `status 200; ${text.actual}`,
            message: `The retry of ${replayKey} got a different body.`,
          },
        ],
        notes: [],
      },
      {
        checker: 'conflictOnMismatch',
        valid: 'unknown',
        checked: 0,
        anomalies: [],
        notes: [text['check-note']],
      },
    ],
  });
  const stopped = scenarioResult({
    name: `stopped ${scenario}`,
    valid: 'unknown',
    error: { code: 'IDEMPROOF_ERR_TARGET_UNREACHABLE', message: text['scenario-error'] },
    checks: [],
  });
  // The run's own facts (id, seed, lanes…) are the reporter fixture's: they do not come from
  // the target. Its lanes are the two used here.
  const result: RunResult = {
    ...buildFixture().result,
    valid: false,
    counts: { scenarios: 2, checks: 3, passed: 0, failed: 2, unknown: 1 },
    scenarios: [violated, stopped],
  };
  return { result, history: h.events, text, jsonBodies: [jsonFirst, jsonReplay] };
}

/** What the page did, recorded from the browser's side. */
interface Observed {
  /** Every request the page started, blocked or not. */
  readonly requests: string[];
  /** Requests that got a response. */
  readonly finished: string[];
  readonly console: string[];
  readonly pageErrors: string[];
  readonly dialogs: string[];
  readonly violations: () => Promise<string[]>;
}

/**
 * Records CSP violations as `directive blocked-uri`. Playwright runs init scripts through the
 * DevTools protocol, outside the page's CSP; the page itself still runs no script of its own.
 */
function recordViolations(): void {
  const seen: string[] = [];
  Object.defineProperty(window, '__cspViolations', { value: seen });
  document.addEventListener('securitypolicyviolation', (event) => {
    seen.push(`${event.effectiveDirective} ${event.blockedURI}`);
  });
}

async function observe(page: Page): Promise<Observed> {
  const observed = {
    requests: [] as string[],
    finished: [] as string[],
    console: [] as string[],
    pageErrors: [] as string[],
    dialogs: [] as string[],
    violations: () =>
      page.evaluate(() => [
        ...(window as unknown as { __cspViolations: string[] }).__cspViolations,
      ]),
  };
  page.on('request', (request) => void observed.requests.push(request.url()));
  page.on('requestfinished', (request) => void observed.finished.push(request.url()));
  page.on(
    'console',
    (message) => void observed.console.push(`${message.type()}: ${message.text()}`),
  );
  page.on('pageerror', (error) => void observed.pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    observed.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.addInitScript(recordViolations);
  return observed;
}

async function pwned(page: Page): Promise<unknown> {
  return page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
}

describe('the HTML report in headless Chromium, from a hostile target', () => {
  let canary: Canary;
  let test: TestContext;
  let run: HostileRun;
  let fileUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let observed: Observed;

  beforeAll(async () => {
    canary = await startCanary();
    test = testContext();
    run = hostileRun(canary.url);
    const reporters = createReporters(['html', 'json', 'junit'], test.context);
    for (const reporter of reporters) await reporter.onEnd(run.result, run.history);
    const path = join(test.context.reportDir, HTML_FILE);
    expect(existsSync(path)).toBe(true);
    fileUrl = pathToFileURL(path).href;

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    observed = await observe(page);
    await page.goto(fileUrl, { waitUntil: 'load' });
    // Long enough for a refresh of 0 s, a stylesheet or an image to have been tried.
    await page.waitForTimeout(500);
  });

  afterAll(async () => {
    await browser?.close();
    await canary?.close();
    test?.remove();
  });

  it('runs no script: no payload fired, no dialog, no error, no <script> in the DOM', async () => {
    expect(await pwned(page)).toBeUndefined();
    expect(observed.dialogs).toEqual([]);
    expect(observed.pageErrors).toEqual([]);
    expect(observed.console).toEqual([]);
    expect(await observed.violations()).toEqual([]);
    expect(await page.locator('script').count()).toBe(0);
    // Nor anything else a payload could act through: the only SVGs are the report's charts, the
    // only links point into the page, the only http-equiv is the CSP.
    const risky = [
      'img, iframe, frame, base, link, form, input, button, textarea, object, embed',
      'audio, video, source, svg:not(.chart), a[href]:not([href^="#"])',
    ].join(', ');
    expect(await page.locator(risky).count()).toBe(0);
    expect(await page.locator('meta[http-equiv]').count()).toBe(1);
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').count()).toBe(1);
    const handlers = await page.evaluate(() =>
      [...document.querySelectorAll('*')].flatMap((element) =>
        [...element.attributes]
          .filter((attribute) => attribute.name.startsWith('on'))
          .map((attribute) => `${element.tagName} ${attribute.name}`),
      ),
    );
    expect(handlers).toEqual([]);
    // The page is still the report: no refresh or <base> took it elsewhere.
    expect(page.url()).toBe(fileUrl);
    expect(await page.evaluate(() => document.baseURI)).toBe(fileUrl);
    expect(context.pages()).toEqual([page]);
  });

  it('loads nothing: the only request is the page itself, and the canary heard nothing', () => {
    expect(observed.requests).toEqual([fileUrl]);
    expect(observed.finished).toEqual([fileUrl]);
    expect(canary.hits).toEqual([]);
  });

  it('shows every payload as text, in every place, escaped and not dropped', async () => {
    // Closed <details> hold the profile and some timelines: open them, so all text renders.
    await page.evaluate(() => {
      for (const details of document.querySelectorAll('details')) details.open = true;
    });
    const shown = await page.evaluate(() => document.body.innerText);
    const missing: string[] = [];
    for (const place of PLACES) {
      for (const payload of payloads(place, canary.url)) {
        // Bidi overrides are shown as ⟨U+202E⟩ rather than allowed to reorder the text.
        const visible = showControls(payload);
        if (!shown.includes(visible)) missing.push(`${place}: ${visible}`);
      }
    }
    expect(missing).toEqual([]);
    expect(shown).toContain('invoice-key⟨U+202E⟩fdp.exe');
    expect(shown).not.toContain('\u202E');
    for (const body of run.jsonBodies) expect(shown).toContain(showControls(body));
    expect(shown).toContain(LONG_LINE);
    expect(shown).toContain(`javascript:window.__pwned='location'`);
    // The violation's sections rendered: attempts, the body diff, the timeline. It is told in
    // full once, under Defects (its defect's first violation); under Violations it is a link.
    expect(await page.getByText('Body differences').count()).toBe(1);
    expect(await page.locator('article.violation').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('section.diffs').count()).toBe(1);
    expect(await page.locator('#defects section.diffs').count()).toBe(1);
    // Both violations lead a defect: each is a link under Violations.
    expect(await page.locator('#violations article.violation.elsewhere a').count()).toBe(2);
    expect(await page.locator('figure.timeline svg').count()).toBeGreaterThan(0);
    // Long lines wrap inside the page instead of widening it.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('links each ✗ cell and each link to a violation that is on the page, told in full', async () => {
    const cells = page.locator('table.matrix td.fail a');
    expect(await cells.count()).toBeGreaterThan(0);
    const targets = [
      ...(await cells.evaluateAll((links) => links.map((link) => link.getAttribute('href')))),
      ...(await page
        .locator('#violations article.violation.elsewhere a')
        .evaluateAll((links) => links.map((link) => link.getAttribute('href')))),
    ];
    for (const href of targets) {
      expect(href).toMatch(/^#/);
      const target = page.locator(href ?? '#none');
      expect(await target.count(), `${href ?? ''}`).toBe(1);
      // It lands on a full telling: the message, expected and actual, not a link to elsewhere.
      expect(
        await target.evaluate((node) => node.matches('article.violation:not(.elsewhere)')),
      ).toBe(true);
      expect(await target.locator('.expect').count()).toBe(1);
    }
  });

  it('keeps a full-page screenshot as a test artifact', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    // The PNG signature.
    expect(readFileSync(SCREENSHOT).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });

  it('is under a strict CSP that blocks what an injection would try', async () => {
    const fresh = await context.newPage();
    const seen = await observe(fresh);
    await fresh.goto(fileUrl, { waitUntil: 'load' });
    const policy = await fresh
      .locator('meta[http-equiv="Content-Security-Policy"]')
      .getAttribute('content');
    expect(policy).toBe(CSP);
    const directives = new Map(
      (policy ?? '').split(';').map((part) => {
        const [name = '', ...values] = part.trim().split(/\s+/);
        return [name, values.join(' ')] as const;
      }),
    );
    expect(directives.get('default-src')).toBe("'none'");
    // No script-src: scripts fall back to default-src 'none', inline ones included.
    expect(directives.has('script-src')).toBe(false);
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'none'");

    // What an injected element would do, done from outside the page's CSP.
    const target = canary.url;
    await fresh.evaluate((canaryUrl) => {
      const add = (html: string): void => {
        const holder = document.createElement('div');
        holder.innerHTML = html;
        document.body.append(...holder.childNodes);
      };
      const script = document.createElement('script');
      script.textContent = "window.__pwned = 'inline script'";
      document.body.append(script);
      const external = document.createElement('script');
      external.src = `${canaryUrl}/script.js`;
      document.body.append(external);
      add(`<img src="${canaryUrl}/img.png" onerror="window.__pwned='handler'">`);
      add(`<link rel="stylesheet" href="${canaryUrl}/style.css">`);
      add(`<iframe src="${canaryUrl}/frame"></iframe>`);
      const base = document.createElement('base');
      base.href = `${canaryUrl}/base/`;
      document.head.append(base);
      void fetch(`${canaryUrl}/fetch`).catch(() => undefined);
      const form = document.createElement('form');
      form.action = `${canaryUrl}/form`;
      form.method = 'get';
      document.body.append(form);
      form.submit();
    }, target);
    await fresh.waitForTimeout(500);

    expect(await pwned(fresh)).toBeUndefined();
    expect(fresh.url()).toBe(fileUrl);
    expect(await fresh.evaluate(() => document.baseURI)).toBe(fileUrl);
    // Chromium starts the requests, and the CSP stops them before they leave.
    expect(canary.hits).toEqual([]);
    expect(seen.finished).toEqual([fileUrl]);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
    // What the console says is the CSP refusing, and nothing else.
    expect(seen.console.length).toBeGreaterThan(0);
    for (const line of seen.console) expect(line).toMatch(/^error: .*Content Security Policy/s);
    const blocked = await seen.violations();
    expect(new Set(blocked.map((violation) => violation.split(' ')[0]))).toEqual(
      new Set([
        'script-src-elem',
        'script-src-attr',
        'img-src',
        'style-src-elem',
        'frame-src',
        'base-uri',
        'connect-src',
        'form-action',
      ]),
    );
    await fresh.close();
  });
});
