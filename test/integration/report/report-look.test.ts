/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions given to page.evaluate run in the browser: DOM types for them (src/ is built
// without DOM types by tsconfig.build.json, so none of it can come to rely on them).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, validityOfChecks } from '../../../src/check/compose.js';
import { DEFAULT_CHECKERS } from '../../../src/check/default-checkers.js';
import type { HistoryEvent } from '../../../src/history/events.js';
import { htmlReporter } from '../../../src/report/html.js';
import { MAX_OTHER_TIMELINES } from '../../../src/report/html-scenario.js';
import { MAX_TIMELINE_ROWS } from '../../../src/report/html-timeline.js';
import type { PatternSummary, RunResult, ScenarioResult } from '../../../src/run/result.js';
import { buildResult } from '../../../src/run/run.js';
import { countAttempts, summariseLatency } from '../../../src/run/summary.js';
import { PROFILES } from '../../../src/scenario/profile.js';
import { launchChromium } from '../../support/browser.js';
import { HistoryBuilder, payment } from '../../unit/check/history-builder.js';
import { testContext, type TestContext } from '../../unit/report/context.js';

/**
 * What a person sees when they open index.html, in a real headless Chromium: a green run, a
 * red run with violations of five checkers, and a big run (400 keys over 3 scenarios, long
 * keys and tenant names, a key with more attempts than a timeline shows). The checks are the
 * real checkers run over hand-built histories. Full-page screenshots are kept as artifacts.
 */

const ARTIFACTS = fileURLToPath(new URL('../../../reports/tests/artifacts/', import.meta.url));
const CHECKERS = Object.keys(DEFAULT_CHECKERS);

// ---------------------------------------------------------------------------------------------
// Runs

interface ScenarioSpec {
  readonly name: string;
  readonly build: (h: HistoryBuilder) => void;
}

interface Run {
  readonly result: RunResult;
  readonly history: readonly HistoryEvent[];
}

function patternsOf(events: readonly HistoryEvent[]): PatternSummary[] {
  const patterns = new Map<
    string,
    { kind: PatternSummary['kind']; ops: number; keys: Set<string> }
  >();
  for (const event of events) {
    if (event.type !== 'invoke') continue;
    const entry = patterns.get(event.pattern) ?? {
      kind: event.patternKind,
      ops: 0,
      keys: new Set<string>(),
    };
    entry.ops++;
    if (event.key !== null) entry.keys.add(event.key);
    patterns.set(event.pattern, entry);
  }
  return [...patterns].map(([id, { kind, ops, keys }]) => ({
    id,
    kind,
    attempts: ops,
    keys: keys.size,
    notes: [],
  }));
}

/** The fault lanes every run here has, recorded as the runner records them. */
const LANES: readonly (readonly [string, string])[] = [
  ['clean', 'none'],
  ['lost-response', 'downstream reset_peer timeout=0'],
  ['blackhole', 'downstream timeout timeout=0'],
  ['lost-request', 'upstream reset_peer timeout=0'],
];

/**
 * The lanes, then each scenario's history, one after the other in one run, checked by the real
 * checkers and summed up by the runner's own functions.
 */
function buildRun(runId: string, specs: readonly ScenarioSpec[]): Run {
  const history: HistoryEvent[] = LANES.map(([lane, toxics], index) => ({
    index,
    time: 0,
    scenario: '',
    type: 'fault',
    lane,
    toxics,
  }));
  const scenarios = specs.map((spec): ScenarioResult => {
    const h = new HistoryBuilder(spec.name);
    spec.build(h);
    const offset = history.length;
    const start = history.at(-1)?.time ?? 0;
    const events = h
      .history()
      .map((event) => ({ ...event, index: event.index + offset, time: event.time + start }));
    history.push(...events);
    const checks = runChecks(events, { profile: PROFILES.default });
    return {
      name: spec.name,
      file: `scenarios/${spec.name.replace(/\W+/g, '-')}.yaml`,
      target: 'http://127.0.0.1:8080',
      profile: PROFILES.default,
      valid: validityOfChecks(checks),
      patterns: patternsOf(events),
      checks,
      attempts: countAttempts(events),
      latency: summariseLatency(events),
      durationMs: (events.at(-1)?.time ?? 0) - (events[0]?.time ?? 0),
      error: null,
    };
  });
  const result = buildResult({
    history,
    proxyPrefix: 'idemproof_ecac',
    scenarios,
    seed: 1453993206,
    runId,
    reportDir: `/tmp/reports/${runId}`,
    started: new Date('2026-11-24T23:02:11.000Z'),
    durationMs: history.at(-1)?.time ?? 0,
    options: {
      paths: ['scenarios/'],
      target: 'http://127.0.0.1:8080',
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    },
  });
  return { history, result };
}

const MISMATCH = {
  variant: 'different',
  label: 'different payload',
  patternKind: 'payload-mismatch',
} as const;
const CONFLICT = { status: 409, body: { title: 'Idempotency-Key reused with another payload' } };
const KEYLESS = {
  keySent: false,
  key: null,
  marker: 'm-nokey',
  patternKind: 'missing-key',
} as const;

/** A key that holds: the original, a retry (after a lost response if `lost`), one effect. */
function goodKey(h: HistoryBuilder, key: string, id: string, lost: boolean): void {
  h.send({ key, label: 'original' }, { status: 201, body: payment(id) });
  if (lost) h.lost({ key, label: 'retry 1', patternKind: 'lost-response' });
  h.send({ key, label: lost ? 'retry 2' : 'retry 1' }, { status: 201, body: payment(id) });
  h.effects(1, { key });
}

function greenRun(): Run {
  return buildRun('20261124-230211-9a1f', [
    {
      name: 'demo payments',
      build: (h) => {
        for (let i = 0; i < 6; i++) goodKey(h, `k-pay-${i}`, `pay_${i}`, i % 2 === 1);
        h.send({ key: 'k-pay-m', label: 'original' }, { status: 201, body: payment('pay_m') });
        h.send({ key: 'k-pay-m', ...MISMATCH }, CONFLICT);
        h.send(
          { key: 'k-pay-m', label: 'original again' },
          { status: 201, body: payment('pay_m') },
        );
        h.effects(1, { key: 'k-pay-m' });
      },
    },
    {
      name: 'demo orders',
      build: (h) => {
        for (let i = 0; i < 4; i++) goodKey(h, `k-ord-${i}`, `ord_${i}`, i === 2);
        const refused = { status: 400, body: { title: 'Idempotency-Key required' } };
        h.send({ ...KEYLESS, label: 'without key 1' }, refused);
        h.send({ ...KEYLESS, label: 'without key 2' }, refused);
        h.effects(0, { key: null, marker: 'm-nokey' });
      },
    },
  ]);
}

function redRun(): Run {
  return buildRun('20261124-231544-77c2', [
    {
      name: 'demo payments',
      build: (h) => {
        for (let i = 0; i < 3; i++) goodKey(h, `k-pay-${i}`, `pay_${i}`, i === 1);
        // A lost response, then the retry charged again.
        h.lost({ key: 'k-dup', label: 'original', patternKind: 'lost-response' });
        h.send(
          { key: 'k-dup', label: 'retry 1', patternKind: 'lost-response' },
          { status: 201, body: payment('pay_d') },
        );
        h.effects(2, { key: 'k-dup' });
        // A replay whose body differs.
        h.send({ key: 'k-replay', label: 'original' }, { status: 201, body: payment('pay_r') });
        h.send(
          { key: 'k-replay', label: 'retry 1' },
          { status: 201, body: payment('pay_r', { status: 'pending', retried: true }) },
        );
        h.effects(1, { key: 'k-replay' });
        // A different payload under the same key, accepted.
        h.send({ key: 'k-mismatch', label: 'original' }, { status: 201, body: payment('pay_x') });
        h.send(
          { key: 'k-mismatch', ...MISMATCH },
          { status: 201, body: payment('pay_y', { amount: 2500 }) },
        );
        h.effects(2, { key: 'k-mismatch' });
      },
    },
    {
      name: 'demo orders',
      build: (h) => {
        for (let i = 0; i < 3; i++) goodKey(h, `k-ord-${i}`, `ord_${i}`, false);
        // A request without a key, processed.
        h.send({ ...KEYLESS, label: 'without key 1' }, { status: 201, body: payment('ord_n') });
        h.effects(1, { key: null, marker: 'm-nokey' });
        // Tenant bob gets tenant alice's order for the same key.
        const shared = { key: 'k-shared', patternKind: 'cross-tenant' } as const;
        h.send(
          { ...shared, tenant: 'alice', label: 'as alice' },
          { status: 201, body: payment('ord_a') },
        );
        h.send(
          { ...shared, tenant: 'bob', label: 'as bob' },
          { status: 201, body: payment('ord_a') },
        );
        // Bob's request never ran: his 201 has no effect behind it.
        h.effects(1, { key: 'k-shared', tenant: 'alice' });
        h.effects(0, { key: 'k-shared', tenant: 'bob' });
      },
    },
  ]);
}

const TENANTS = [
  'Acme International Holdings GmbH & Co. KG (Europe West)',
  'Globex Corporation — Payments Platform Team',
  'Initech',
];
const BIG_SCENARIOS = [
  'checkout payments · EU acquirers',
  'marketplace orders for tenants with very long legal names',
  'refunds and partial captures',
];
const BIG_KEYS = [134, 133, 133];
/** Keys (by number) with a violation in each big scenario: 5 + 4 + 3. */
const BIG_VIOLATIONS = [
  [10, 30, 50, 70, 90],
  [15, 45, 75, 105],
  [20, 60, 100],
];
/** The key of scenario 3 with more attempts than a timeline shows. */
const BURST_KEY = 7;
const BURST_ATTEMPTS = MAX_TIMELINE_ROWS + 30;

/** Long keys: a path with the tenant's name, or (Initech) 67 characters without a break. */
function bigKey(si: number, i: number): string {
  const tenant = TENANTS[i % TENANTS.length] ?? '';
  const order = String(si * 1000 + i).padStart(6, '0');
  if (tenant === 'Initech') return `ik_${createHash('sha256').update(order).digest('hex')}`;
  const slug = tenant.toLowerCase().replace(/\W+/g, '-');
  return `${slug}/checkout/2026-11-24/order-${order}`;
}

function bigRun(): Run {
  return buildRun(
    '20261124-233010-b1g0',
    BIG_SCENARIOS.map((name, si) => ({
      name,
      build: (h: HistoryBuilder) => {
        for (let i = 0; i < (BIG_KEYS[si] ?? 0); i++) {
          const key = bigKey(si, i);
          const tenant = TENANTS[i % TENANTS.length] ?? null;
          const id = `pay_${si}_${i}`;
          const at = { key, tenant };
          const violated = BIG_VIOLATIONS[si]?.includes(i) === true;
          if (i % 17 === 3) h.notDelivered({ ...at, label: 'original', lane: 'lost-request' });
          if (i % 5 === 1) h.lost({ ...at, label: 'original', patternKind: 'lost-response' });
          else h.send({ ...at, label: 'original' }, { status: 201, body: payment(id) });
          const replay = violated && si === 1 ? payment(id, { status: 'pending' }) : payment(id);
          h.send({ ...at, label: 'retry 1' }, { status: 201, body: replay });
          if (si === 2 && i === BURST_KEY) {
            for (let n = 2; n < BURST_ATTEMPTS; n++)
              h.send({ ...at, label: `retry ${n}` }, { status: 201, body: payment(id) });
          }
          if (violated && si === 2) {
            h.send(
              { ...at, ...MISMATCH },
              { status: 201, body: payment(`${id}b`, { amount: 2500 }) },
            );
          }
          h.effects(violated && si === 0 ? 2 : 1, at);
        }
      },
    })),
  );
}

// ---------------------------------------------------------------------------------------------
// The browser's side

interface Opened {
  readonly page: Page;
  /** Console messages and uncaught errors: there must be none. */
  readonly errors: string[];
}

/**
 * Saves a full-page PNG of the page as it opened, in reports/tests/artifacts/. Chromium's own
 * capture beyond the viewport takes 2 s on the big report (25,000 px high); Playwright's
 * `fullPage` takes over 30 s, and so does this capture once a locator has run on the page, so
 * it is taken first.
 */
async function screenshot(page: Page, file: string): Promise<void> {
  const path = join(ARTIFACTS, file);
  const size = await page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
  }));
  const cdp = await page.context().newCDPSession(page);
  const shot = await cdp.send('Page.captureScreenshot', {
    format: 'png',
    captureBeyondViewport: true,
    clip: { x: 0, y: 0, ...size, scale: 1 },
  });
  await cdp.detach();
  writeFileSync(path, Buffer.from(shot.data, 'base64'));
  expect(statSync(path).size).toBeGreaterThan(10_000);
  expect(readFileSync(path).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
}

/** Opens a report from disk at a viewport size, recording errors, and keeps a screenshot. */
async function open(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number },
  artifact: string,
): Promise<Opened> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('console', (message) => void errors.push(`console ${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => void errors.push(`page error: ${error.message}`));
  await page.goto(url, { waitUntil: 'load' });
  await screenshot(page, artifact);
  return { page, errors };
}

async function expectVisible(locator: Locator, what: string): Promise<void> {
  expect(await locator.isVisible(), `${what} is visible`).toBe(true);
  const box = await locator.boundingBox();
  expect(box, `${what} has a box`).not.toBeNull();
  expect(box?.width ?? 0, `${what} has a width`).toBeGreaterThan(0);
  expect(box?.height ?? 0, `${what} has a height`).toBeGreaterThan(0);
}

async function expectBanner(page: Page, word: 'PASS' | 'FAIL'): Promise<void> {
  const banner = page.locator('header.banner');
  await expectVisible(banner, 'the verdict banner');
  expect(await banner.getAttribute('class')).toBe(`banner ${word.toLowerCase()}`);
  expect((await banner.locator('h1').innerText()).startsWith(`${word}: `)).toBe(true);
  // It is the first thing on the page.
  expect((await banner.boundingBox())?.y).toBe(0);
}

/** The scenarios × checks table: one row per scenario, one column per checker. */
async function expectMatrix(page: Page, result: RunResult): Promise<Locator> {
  const matrix = page.locator('table.matrix');
  await expectVisible(matrix, 'the checks table');
  const head = await matrix.locator('thead th').allInnerTexts();
  expect(head.map((text) => text.replace(/\s+/g, ''))).toEqual(['scenario', ...CHECKERS]);
  const rows = matrix.locator('tbody tr');
  expect(await rows.count()).toBe(result.scenarios.length);
  for (let si = 0; si < result.scenarios.length; si++) {
    const row = rows.nth(si);
    expect(await row.locator('th, td').count()).toBe(1 + CHECKERS.length);
    expect(await row.locator('th').innerText()).toBe(result.scenarios[si]?.name);
  }
  return matrix;
}

/** Measures the page as laid out; every entry of `problems` names an element that is wrong. */
interface LayoutAudit {
  /** How far the page scrolls sideways. */
  readonly pageOverflow: number;
  readonly problems: string[];
  readonly texts: number;
  readonly truncated: number;
  readonly tables: number;
  readonly scrollingTables: number;
  readonly cells: number;
}

function auditLayout(): LayoutAudit {
  const problems: string[] = [];
  const name = (element: Element): string => {
    const classes = element.getAttribute('class');
    const text = (element.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 60);
    return `<${element.tagName.toLowerCase()}${classes === null ? '' : ` class="${classes}"`}> "${text}"`;
  };
  const scroller = (element: Node): Element | null => {
    for (
      let up = element.parentElement;
      up !== null && up.tagName !== 'MAIN';
      up = up.parentElement
    ) {
      if (['auto', 'scroll'].includes(getComputedStyle(up).overflowX)) return up;
    }
    return null;
  };
  const main = document.querySelector('main');
  if (main === null)
    return {
      pageOverflow: 0,
      problems: ['no <main>'],
      texts: 0,
      truncated: 0,
      tables: 0,
      scrollingTables: 0,
      cells: 0,
    };
  const frame = main.getBoundingClientRect();

  // Nothing sticks out of the page's column, except inside a box that scrolls on its own.
  for (const element of main.querySelectorAll('*')) {
    if (element.closest('svg') !== null && element.tagName.toLowerCase() !== 'svg') continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right <= frame.right + 1 && box.left >= frame.left - 1) continue;
    const own = scroller(element);
    if (own === null)
      problems.push(
        `sticks out of the page by ${Math.round(box.right - frame.right)} px: ${name(element)}`,
      );
    else {
      const outer = own.getBoundingClientRect();
      if (outer.right > frame.right + 1 || outer.left < frame.left - 1)
        problems.push(`scroll box wider than the page: ${name(own)}`);
    }
  }

  // Nor does any text, e.g. a long key without a place to break.
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent === null || parent.closest('svg') !== null || (node.textContent ?? '').trim() === '')
      continue;
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || (box.right <= frame.right + 1 && box.left >= frame.left - 1)) continue;
    if (scroller(node) === null)
      problems.push(
        `text sticks out of the page by ${Math.round(box.right - frame.right)} px: ${name(parent)}`,
      );
  }

  // Chart text lies inside its chart; a cut label ends with … and has the full text as <title>.
  let texts = 0;
  let truncated = 0;
  for (const svg of document.querySelectorAll<SVGSVGElement>('svg.chart')) {
    const frameOf = svg.getBoundingClientRect();
    // Drawn at 80 % or more of its size, so its 11 px text stays 9 px or more.
    const scale = frameOf.width / svg.viewBox.baseVal.width;
    const axis: { shown: string; box: DOMRect }[] = [];
    if (!(scale >= 0.8)) problems.push(`chart drawn at ${Math.round(scale * 100)} %: ${name(svg)}`);
    for (const text of svg.querySelectorAll('text')) {
      const box = text.getBoundingClientRect();
      const shown = [...text.childNodes]
        .filter((node) => node.nodeType === Node.TEXT_NODE)
        .map((node) => node.textContent ?? '')
        .join('');
      if (box.width === 0) {
        problems.push(`chart text not laid out (closed <details>?): "${shown}"`);
        continue;
      }
      texts++;
      if (
        box.left < frameOf.left - 0.5 ||
        box.right > frameOf.right + 0.5 ||
        box.top < frameOf.top - 0.5 ||
        box.bottom > frameOf.bottom + 0.5
      ) {
        const by = Math.round(Math.max(frameOf.left - box.left, box.right - frameOf.right));
        problems.push(`chart text clipped by ${by} px: "${shown}"`);
      }
      if (text.classList.contains('axis')) axis.push({ shown, box });
      if (text.classList.contains('label') && shown.endsWith('…')) {
        truncated++;
        const full = text.querySelector('title')?.textContent ?? '';
        if (!(full.length > shown.length && full.startsWith(shown.slice(0, -1))))
          problems.push(`cut label without its full text as <title>: "${shown}"`);
      }
    }
    // A timeline's time axis: distinct labels, apart from each other.
    if (svg.closest('figure.timeline') === null) continue;
    axis.forEach(({ shown, box }, i) => {
      const next = axis[i + 1];
      if (next === undefined) return;
      if (next.shown === shown) problems.push(`time axis repeats "${shown}"`);
      if (next.box.left < box.right + 2) problems.push(`time axis labels touch: "${shown}"`);
    });
  }

  // Tables: wider than the column only inside a box that scrolls; cells inside their rows.
  let tables = 0;
  let scrollingTables = 0;
  let cells = 0;
  for (const table of document.querySelectorAll('table')) {
    const box = table.getBoundingClientRect();
    if (box.width === 0) continue;
    tables++;
    const own = scroller(table);
    if (own !== null && getComputedStyle(own).overflowX === 'auto') scrollingTables++;
    const rows = [...table.rows];
    const sample = [...new Set([0, 1, Math.floor(rows.length / 2), rows.length - 1])];
    for (const at of sample) {
      const row = rows[at];
      if (row === undefined) continue;
      const rowBox = row.getBoundingClientRect();
      const boxes = [...row.cells].map((cell) => cell.getBoundingClientRect());
      [...row.cells].forEach((cell, i) => {
        cells++;
        const cellBox = boxes[i] as DOMRect;
        if (
          cellBox.left < rowBox.left - 1 ||
          cellBox.right > rowBox.right + 1 ||
          cellBox.top < rowBox.top - 1 ||
          cellBox.bottom > rowBox.bottom + 1
        )
          problems.push(`cell outside its row: ${name(cell)}`);
        const next = boxes[i + 1];
        if (next !== undefined && cellBox.right > next.left + 1)
          problems.push(`cells overlap: ${name(cell)}`);
        if (cell.scrollWidth > cell.clientWidth + 1)
          problems.push(`content spills out of its cell: ${name(cell)}`);
      });
    }
  }
  const root = document.documentElement;
  return {
    pageOverflow: root.scrollWidth - root.clientWidth,
    problems,
    texts,
    truncated,
    tables,
    scrollingTables,
    cells,
  };
}

/**
 * Opens every <details>, so that everything is laid out, then checks the page (`auditLayout`):
 * nothing wrong, no sideways scrolling, no console message or page error. Closes the page.
 */
async function expectReadable({ page, errors }: Opened): Promise<LayoutAudit> {
  await page.evaluate(() => {
    for (const details of document.querySelectorAll('details')) details.open = true;
  });
  const audit = await page.evaluate(auditLayout);
  expect(audit.problems).toEqual([]);
  expect(audit.pageOverflow).toBeLessThanOrEqual(0);
  expect(errors).toEqual([]);
  await page.close();
  return audit;
}

// ---------------------------------------------------------------------------------------------

const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

describe('the HTML report as people see it, in headless Chromium', () => {
  let test: TestContext;
  let browser: Browser;
  const runs = { green: greenRun(), red: redRun(), big: bigRun() };
  const urls = new Map<keyof typeof runs, string>();

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    test = testContext();
    for (const [name, run] of Object.entries(runs)) {
      const reportDir = join(test.dir, name);
      const reporter = htmlReporter({ ...test.context, reportDir });
      const [file] = await reporter.onEnd(run.result, run.history);
      urls.set(name as keyof typeof runs, pathToFileURL(file ?? '').href);
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    test?.remove();
  });

  it('green: loads cleanly and says PASS, with every check in the table', async () => {
    const { result } = runs.green;
    expect(result.valid).toBe(true);
    const opened = await open(browser, urls.get('green') ?? '', WIDE, 'report-green.png');
    const { page } = opened;
    await expectBanner(page, 'PASS');
    const matrix = await expectMatrix(page, result);
    expect(await matrix.locator('td.cell.fail, td.cell.unknown').count()).toBe(0);
    expect(await matrix.locator('td.cell.pass').count()).toBeGreaterThanOrEqual(4);
    await expectVisible(page.getByText('None.', { exact: true }), 'the empty violations section');
    await expectReadable(opened);
  });

  it('red: says FAIL and shows every violation in full', async () => {
    const { result, history } = runs.red;
    const violated = result.scenarios.flatMap((scenario) =>
      scenario.checks.filter((check) => check.valid === false).map((check) => check.checker),
    );
    expect(new Set(violated)).toEqual(
      new Set([
        'effectsPerKey',
        'replayIdenticalResponses',
        'conflictOnMismatch',
        'missingKeyRefused',
        'tenantIsolation',
      ]),
    );
    const opened = await open(browser, urls.get('red') ?? '', WIDE, 'report-red.png');
    const { page } = opened;
    await expectBanner(page, 'FAIL');
    const matrix = await expectMatrix(page, result);
    expect(await matrix.locator('td.cell.fail a').count()).toBe(violated.length);

    const attempts = new Set(
      history.filter((event) => event.type === 'invoke').map((event) => event.index),
    );
    let shown = 0;
    for (const [si, scenario] of result.scenarios.entries()) {
      for (const [ci, check] of scenario.checks.entries()) {
        for (const [ai, anomaly] of check.anomalies.entries()) {
          const article = page.locator(`article#v-${si}-${ci}-${ai}`);
          for (const summary of await article.locator('details:not([open]) > summary').all())
            await summary.click();
          const what = `${check.checker} ${anomaly.kind}`;
          await expectVisible(article, what);
          const heading = await article.locator('h3').innerText();
          expect(heading).toContain(check.checker);
          expect(heading).toContain(anomaly.kind);
          if (anomaly.key !== null) expect(heading).toContain(`key ${anomaly.key}`);
          await expectVisible(article.locator('p.message'), `${what}: message`);
          expect(await article.locator('p.message').innerText()).toBe(anomaly.message);
          const [expected, actual] = await article.locator('.expect p').all();
          if (expected === undefined || actual === undefined) throw new Error(`${what}: no expect`);
          await expectVisible(expected, `${what}: expected`);
          await expectVisible(actual, `${what}: actual`);
          expect(await expected.innerText()).toBe(anomaly.expected);
          expect(await actual.innerText()).toBe(anomaly.actual);
          if (anomaly.events.some((position) => attempts.has(position))) {
            // Request and response side by side.
            const pair = article.locator('.attempt .pair').first();
            const request = pair.locator('.pane').nth(0);
            const response = pair.locator('.pane').nth(1);
            await expectVisible(request, `${what}: request`);
            await expectVisible(response, `${what}: response`);
            expect(await request.locator('h5').innerText()).toBe('Request');
            expect(await response.locator('h5').innerText()).toMatch(/^(Response|Unknown|Failed)/);
            const left = await request.boundingBox();
            const right = await response.boundingBox();
            expect((right?.x ?? 0) >= (left?.x ?? 0) + (left?.width ?? 0)).toBe(true);
            expect(right?.y).toBe(left?.y);
          }
          shown++;
        }
      }
    }
    expect(shown).toBeGreaterThanOrEqual(6);
    expect(await page.locator('article.violation.fail').count()).toBe(shown);

    await expectReadable(opened);
  });

  it('big: 400 keys stay readable at 1280 px, within the documented limits', async () => {
    const { result } = runs.big;
    const keys = result.scenarios.map((scenario) => scenario.checks[0]?.checked ?? 0);
    expect(keys).toEqual(BIG_KEYS);
    const anomalies = result.scenarios.map((scenario) =>
      scenario.checks.reduce((sum, check) => sum + check.anomalies.length, 0),
    );
    expect(anomalies).toEqual(BIG_VIOLATIONS.map((list) => list.length));

    const opened = await open(browser, urls.get('big') ?? '', WIDE, 'report-big.png');
    const { page } = opened;
    await expectBanner(page, 'FAIL');
    await expectMatrix(page, result);
    expect(await page.locator('article.violation.fail').count()).toBe(12);

    for (const [si, scenario] of result.scenarios.entries()) {
      const section = page.locator(`section#s-${si}`);
      const others = (BIG_KEYS[si] ?? 0) - (BIG_VIOLATIONS[si]?.length ?? 0);
      expect(await section.locator('figure.timeline').count()).toBe(MAX_OTHER_TIMELINES);
      const note = section.getByText(/^\s*Timelines for \d+ of/);
      await expectVisible(note, `${scenario.name}: the note on left-out timelines`);
      const said = (await note.innerText()).replace(/\s+/g, ' ');
      expect(said).toContain(`Timelines for ${MAX_OTHER_TIMELINES} of ${others} keys`);
      expect(said).toContain(`the other ${others - MAX_OTHER_TIMELINES} are left out`);
    }
    // The burst key's timeline stops at the row limit, and says so.
    const burst = page.locator('section#s-2 details', { hasText: bigKey(2, BURST_KEY) });
    await burst.locator('summary').click();
    const rows = await burst.locator('svg.chart rect.bar').count();
    expect(rows).toBe(MAX_TIMELINE_ROWS);
    await expectVisible(
      burst.getByText(`First ${MAX_TIMELINE_ROWS} of ${BURST_ATTEMPTS} attempts shown`),
      'the note on left-out rows',
    );

    // No timeline anywhere on the page has more rows than the limit.
    const perTimeline = await page.evaluate(() =>
      [...document.querySelectorAll('figure.timeline svg')].map(
        (svg) => svg.querySelectorAll('rect.bar').length,
      ),
    );
    expect(perTimeline).toHaveLength(3 * MAX_OTHER_TIMELINES + 12);
    expect(Math.max(...perTimeline)).toBe(MAX_TIMELINE_ROWS);

    const audit = await expectReadable(opened);
    // Long keys and tenants: labels are cut, and every chart and table was measured.
    expect(audit.truncated).toBeGreaterThan(100);
    expect(audit.texts).toBeGreaterThan(1000);
    expect(audit.tables).toBeGreaterThan(8);
    expect(audit.cells).toBeGreaterThan(100);
  });

  it('big: on a 390 px phone the page does not scroll sideways; wide parts scroll in a box', async () => {
    const { result } = runs.big;
    const opened = await open(browser, urls.get('big') ?? '', NARROW, 'report-big-narrow.png');
    const { page } = opened;
    await expectBanner(page, 'FAIL');
    const banner = page.locator('header.banner h1');
    expect(await banner.evaluate((h1) => h1.scrollWidth <= h1.clientWidth)).toBe(true);
    const matrix = await expectMatrix(page, result);
    // The checks table is wider than a phone: it scrolls in its own box.
    const box = matrix.locator('xpath=..');
    expect(await box.evaluate((element) => getComputedStyle(element).overflowX)).toBe('auto');
    expect((await box.boundingBox())?.width ?? Infinity).toBeLessThanOrEqual(NARROW.width);

    const audit = await expectReadable(opened);
    expect(audit.scrollingTables).toBeGreaterThan(0);
    expect(audit.texts).toBeGreaterThan(1000);
  });

  it('keeps its screenshots as artifacts', () => {
    for (const file of [
      'report-green.png',
      'report-red.png',
      'report-big.png',
      'report-big-narrow.png',
    ])
      expect(statSync(join(ARTIFACTS, file)).size, file).toBeGreaterThan(10_000);
  });
});
