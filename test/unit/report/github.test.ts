import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Anomaly, CheckResult } from '../../../src/check/types.js';
import { runReporters } from '../../../src/cli/run-command.js';
import {
  createGithubReporter,
  escapeCommandData,
  escapeCommandProperty,
  githubAnnotations,
  githubSummary,
  markdownCode,
  markdownText,
  SHOWN_VIOLATIONS,
  STEP_SUMMARY_LIMIT_BYTES,
} from '../../../src/report/github.js';
import { createReporters } from '../../../src/report/registry.js';
import type { RunResult, ScenarioResult } from '../../../src/run/result.js';
import { DEFAULT_REPORTERS } from '../../../src/run/run.js';
import { testContext, type TestContext } from './context.js';
import { buildFixture, FAIL, REPLAY_COMMAND } from './fixture.js';

/** Control characters but LF (the summary's line ends), and all of them (one-line commands). */
const CONTROLS_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/; // eslint-disable-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/; // eslint-disable-line no-control-regex

/** A name that tries to end a table cell, start a row, open code and inject HTML. */
const HOSTILE_NAME = 'a | b `code` <script>alert(1)</script>\n| injected | row | evil\\|cell';
/** The exact Markdown HOSTILE_NAME must become. */
const HOSTILE_NAME_MD =
  'a \\| b \\`code\\` &lt;script&gt;alert\\(1\\)&lt;/script&gt;⟨U+000A⟩\\| injected \\| row \\| evil\\\\\\|cell';
const HOSTILE_MESSAGE =
  'charged 100%\r\n::set-output name=x::y <img src=x onerror=alert(1)> [click](javascript:alert(1)) @octocat :warning:';

function anomaly(key: string, message: string): Anomaly {
  return {
    kind: 'duplicate-effect',
    key,
    tenant: null,
    events: [],
    expected: 'exactly one effect',
    actual: '2 effects | <b>bold</b>',
    message,
  };
}

function failedCheck(checker: string, anomalies: readonly Anomaly[]): CheckResult {
  return { checker, valid: false, checked: anomalies.length, anomalies, notes: [] };
}

/** The fixture's run with its failing scenario replaced by `scenario`'s fields. */
function withFailing(partial: Partial<ScenarioResult>): RunResult {
  const { result } = buildFixture();
  return {
    ...result,
    scenarios: result.scenarios.map((scenario) =>
      scenario.name === FAIL ? { ...scenario, ...partial } : scenario,
    ),
  };
}

/** A table row's cells, splitting on pipes that are not backslash-escaped (as GFM does). */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = '';
  for (let i = 0; i < row.length; i++) {
    const char = row[i] ?? '';
    if (char === '\\') {
      cell += char + (row[i + 1] ?? '');
      i++;
    } else if (char === '|') {
      out.push(cell);
      cell = '';
    } else cell += char;
  }
  out.push(cell);
  return out;
}

let test: TestContext;
beforeEach(() => {
  test = testContext();
});
afterEach(() => test.remove());

describe('github reporter: step summary', () => {
  let summary: string;
  beforeEach(() => {
    summary = join(test.dir, 'step-summary.md');
  });

  it('appends the verdict, the table, each violation, the seed and the report folder', async () => {
    writeFileSync(summary, '# Build\n\nearlier step output\n');
    const { result, history } = buildFixture();
    const reporter = createGithubReporter(test.context, { env: { GITHUB_STEP_SUMMARY: summary } });
    await expect(reporter.onEnd(result, history)).resolves.toEqual([]);
    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('# Build\n\nearlier step output\n\n## ✗ idemproof: FAIL\n')).toBe(true);
    expect(text).toContain(
      '**FAIL\\: 2 defects \\(2 violations\\) in 2 checks · 3 checks unknown · 2 scenarios stopped early**',
    );
    expect(text).toContain(
      [
        '| scenario | effectsPerKey | replayIdentical | conflictOnMismatch | stateOrder |',
        '| --- | :-: | :-: | :-: | :-: |',
        '| payments-pass | ✓ | ✓ | – |   |',
        '| payments &lt;fail&gt; &amp; "friends" | ✗ | ✗ | ✓ | ? |',
        '| orders-unknown (stopped early: IDEMPROOF\\_ERR\\_TARGET\\_UNREACHABLE) | ? | ? |   |   |',
      ].join('\n'),
    );
    expect(text).toContain('### Defects: 2 defects (2 violations)');
    expect(text).toContain(
      '**1. payments &lt;fail&gt; &amp; "friends" · effectsPerKey: duplicate effect** · 1 violation in payments &lt;fail&gt; &amp; "friends"',
    );
    expect(text).toContain('- first: duplicate-effect · key ` k-dup-"<1>" `');
    expect(text).toContain(
      '- **actual:** 2 payments &lt;/textarea&gt;&lt;script&gt;alert\\(1\\)&lt;/script&gt;',
    );
    expect(text).toContain(
      '**2. payments &lt;fail&gt; &amp; "friends" · replayIdentical: replay body differs**',
    );
    expect(text).toContain('- **actual:** status 200; \\$.status "captured" → "pending"');
    expect(text).toContain(`seed 42 · replay:\n\n\`\`\`sh\n${REPLAY_COMMAND}\n\`\`\`\n`);
    expect(text).toContain(`report folder: \` ${test.context.reportDir} \``);
    // Nothing from the target reaches the page as HTML or as a control character.
    expect(text).not.toMatch(/<(script|img|\/textarea)/);
    expect(text).not.toMatch(CONTROLS_BUT_LF);

    // A second run appends again; nothing is overwritten.
    await reporter.onEnd(result, history);
    const twice = readFileSync(summary, 'utf8');
    expect(twice.startsWith(text)).toBe(true);
    expect(twice.split('## ✗ idemproof: FAIL').length).toBe(3);
  });

  it('keeps hostile names and messages inside their table cell and out of HTML', () => {
    const result = withFailing({
      name: HOSTILE_NAME,
      checks: [failedCheck('effectsPerKey', [anomaly('k`1``2', HOSTILE_MESSAGE)])],
    });
    const text = githubSummary(result, '/tmp/reports/run');
    const rows = text.split('\n').filter((line) => line.startsWith('|'));
    // Header, delimiter and one row per scenario, each with the same number of cells.
    expect(rows).toHaveLength(2 + result.scenarios.length);
    for (const row of rows) expect(cells(row)).toHaveLength(cells(rows[0] ?? '').length);
    expect(rows).toContain(`| ${HOSTILE_NAME_MD} | ✗ |   |   |`);
    expect(text).toContain(
      '- charged 100%⟨U+000D⟩⟨U+000A⟩\\:\\:set-output name=x\\:\\:y &lt;img src=x onerror=alert\\(1\\)&gt; \\[click\\]\\(javascript\\:alert\\(1\\)\\) \\@octocat \\:warning\\:\n',
    );
    expect(text).toContain('- **actual:** 2 effects \\| &lt;b&gt;bold&lt;/b&gt;\n');
    expect(text).toContain('- first: duplicate-effect · key ``` k`1``2 ```\n');
    expect(text).not.toMatch(/<(script|img|b>)/);
  });

  it('escapes Markdown text and fences code spans exactly', () => {
    expect(markdownText(HOSTILE_NAME)).toBe(HOSTILE_NAME_MD);
    expect(markdownText('*bold* _it_ ~~s~~ #1 & &amp; !')).toBe(
      '\\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\#1 &amp; &amp;amp; \\!',
    );
    expect(markdownText('x'.repeat(30), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(markdownCode('`edge`')).toBe('`` `edge` ``');
    expect(markdownCode('a\nb')).toBe('` a⟨U+000A⟩b `');
  });

  it('says when the run was stopped, and why', () => {
    const { result } = buildFixture();
    const stopped: RunResult = {
      ...result,
      stopped: {
        kind: 'interrupted',
        signal: 'SIGINT',
        detail: 'interrupted by Ctrl-C',
        attemptsPlanned: 20,
        requestsSent: 9,
      },
    };
    const text = githubSummary(stopped, '/tmp/reports/run');
    expect(text).toContain('## ✗ idemproof: INTERRUPTED\n');
    expect(text).toContain(
      'INTERRUPTED\\: interrupted by Ctrl-C, after 9 of 20 planned attempts; the checks cover only what was recorded',
    );
  });

  it('groups violations into defects, lists at most 50, then says how many more', () => {
    const same = Array.from({ length: 60 }, (_, i) => anomaly(`k-${i}`, `duplicate ${i}`));
    const grouped = githubSummary(
      withFailing({ checks: [failedCheck('effectsPerKey', same)] }),
      '/tmp/reports/run',
    );
    expect(grouped).toContain('### Defects: 1 defect (60 violations)');
    expect(grouped).toContain('- also 59 more \\(k-1, k-2, k-3');
    const many = same.map((one, i) => ({ ...one, kind: `kind-${i}` }));
    const result = withFailing({
      checks: [failedCheck('effectsPerKey', many), failedCheck('replayIdentical', [])],
    });
    const text = githubSummary(result, '/tmp/reports/run');
    expect(text).toContain('### Defects: 60 defects (60 violations)');
    expect(text).toContain('… and 11 more defects');
    // The check without anomalies is listed, not hidden behind the first check's 60.
    expect(text).toContain('- replayIdentical is violated \\(no anomaly was recorded\\)');
    expect(text).toContain('- duplicate 48\n');
    expect(text).not.toContain('- duplicate 49\n');
  });

  it('lists the symptoms of a defect seen on the same keys by several checks', () => {
    const duplicates = [anomaly('k-1', 'duplicate 1'), anomaly('k-2', 'duplicate 2')];
    const replays = [{ ...anomaly('k-2', 'replay 2'), kind: 'replay-body-differs' }];
    // Another symptom, on a key no other symptom has: a defect of its own.
    const apart = [{ ...anomaly('k-9', 'replay 9'), kind: 'replay-header-differs' }];
    const result = withFailing({
      checks: [
        failedCheck('replayIdentical', [...replays, ...apart]),
        failedCheck('effectsPerKey', duplicates),
      ],
    });
    const text = githubSummary(result, '/tmp/reports/run');
    expect(text).toContain('### Defects: 2 defects (4 violations)');
    expect(text).toContain('- 2 symptoms:\n');
    expect(text).toContain('  - duplicate effect · 2 violations · keys k-1 and k-2\n');
    expect(text).toContain('  - replay body differs · 1 violation · key k-2\n');
    const annotations = githubAnnotations(result, '/tmp/reports/run');
    expect(annotations).toHaveLength(2);
    expect(annotations[0]).toContain('· effectsPerKey::duplicate effect · 3 violations in');
    expect(annotations[0]).toContain('%0A2 symptoms:%0A- duplicate effect · 2 violations');
    expect(annotations[1]).toContain('replay header differs · 1 violation');
    expect(annotations[1]).not.toContain('symptoms');
  });

  it('stays within the byte budget, keeping the verdict and the replay command', () => {
    const long = Array.from({ length: 2000 }, (_, i) => ({
      ...buildFixture().result.scenarios[0],
      name: `scenario ${i} ${'x'.repeat(90)}`,
    })) as ScenarioResult[];
    const result: RunResult = { ...buildFixture().result, valid: true, scenarios: long };
    expect(Buffer.byteLength(githubSummary(result, '/r', 1e9))).toBeGreaterThan(200_000);
    const text = githubSummary(result, '/r', 50_000);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(50_000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(45_000);
    expect(text).toContain('## ✓ idemproof: PASS');
    expect(text).toContain(
      "\n> The summary was cut here to stay under GitHub's 1024 KiB step-summary limit; everything is in the report.\n",
    );
    expect(text).toContain(REPLAY_COMMAND);
    expect(githubSummary(result, '/r', 100)).toBe('');
  });

  it('fits what is left of the 1 MiB step summary, and refuses when nothing is left', async () => {
    const { result, history } = buildFixture();
    const reporter = createGithubReporter(test.context, { env: { GITHUB_STEP_SUMMARY: summary } });
    writeFileSync(summary, 'x'.repeat(STEP_SUMMARY_LIMIT_BYTES - 2000));
    await reporter.onEnd(result, history);
    expect(statSync(summary).size).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT_BYTES);
    expect(readFileSync(summary, 'utf8')).toContain('The summary was cut here');

    writeFileSync(summary, 'x'.repeat(STEP_SUMMARY_LIMIT_BYTES - 100));
    await expect(reporter.onEnd(result, history)).rejects.toThrow(
      /IDEMPROOF_ERR_REPORT|too close to GitHub's limit/,
    );
    expect(statSync(summary).size).toBe(STEP_SUMMARY_LIMIT_BYTES - 100);
  });

  it('writes no summary when GITHUB_STEP_SUMMARY is unset or empty, but still annotates', async () => {
    const { result, history } = buildFixture();
    for (const env of [{ GITHUB_ACTIONS: 'true' }, { GITHUB_STEP_SUMMARY: '' }]) {
      await expect(
        createGithubReporter(test.context, { env }).onEnd(result, history),
      ).resolves.toEqual([]);
    }
    expect(readdirSync(test.dir)).toEqual([]);
    expect(test.out.filter((line) => line.startsWith('::error '))).toHaveLength(4);
  });
});

describe('github reporter: workflow commands', () => {
  it('prints one ::error per defect with the scenario file and title', async () => {
    const { result, history } = buildFixture();
    await createGithubReporter(test.context, { env: {} }).onEnd(result, history);
    expect(test.out).toHaveLength(2);
    expect(test.out[1]).toBe(
      '::error file=scenarios/payments <fail> & "friends".yaml,title=payments <fail> & "friends" · replayIdentical::' +
        'replay body differs · 1 violation in payments <fail> & "friends"%0A' +
        'The retry of k-replay got a different body than the original (javascript:alert(document.cookie)).' +
        '%0Areplay-body-differs · key k-replay · tenant acme "corp"' +
        '%0Aexpected: the replay repeats status 201 and the body byte for byte' +
        '%0Aactual: status 200; $.status "captured" → "pending"',
    );
    // The fixture's message carries ESC and NUL: they are shown, never sent to the log.
    expect(test.out[0]).toContain('esc⟨U+001B⟩[31mred');
    for (const line of test.out) expect(line).not.toMatch(CONTROLS);
  });

  it('escapes messages and properties as GitHub reads them', () => {
    expect(escapeCommandData('100%\r\nnext')).toBe('100%25%0D%0Anext');
    expect(escapeCommandProperty('api: create, retry %')).toBe('api%3A create%2C retry %25');
    const result = withFailing({
      name: 'api: create, then retry',
      file: 'scenarios/a,b:c.yaml',
      checks: [failedCheck('effectsPerKey', [anomaly('k-1', HOSTILE_MESSAGE)])],
    });
    const [line] = githubAnnotations(result, '/r');
    expect(line).toBe(
      '::error file=scenarios/a%2Cb%3Ac.yaml,title=api%3A create%2C then retry · effectsPerKey::' +
        'duplicate effect · 1 violation in api: create, then retry%0A' +
        'charged 100%25%0D%0A::set-output name=x::y <img src=x onerror=alert(1)> [click](javascript:alert(1)) @octocat :warning:' +
        '%0Aduplicate-effect · key k-1%0Aexpected: exactly one effect%0Aactual: 2 effects | <b>bold</b>',
    );
  });

  it('omits file= when the scenario file is not known', () => {
    const result = withFailing({
      file: '',
      checks: [failedCheck('effectsPerKey', [anomaly('k-1', 'twice')])],
    });
    expect(githubAnnotations(result, '/r')[0]).toMatch(
      /^::error title=[^:]+effectsPerKey::duplicate effect · 1 violation in [^%]+%0Atwice%0A/,
    );
  });

  it('caps the annotations at 50 and adds one that counts the rest', () => {
    const many = Array.from({ length: 70 }, (_, i) => ({
      ...anomaly(`k-${i}`, `duplicate ${i}`),
      kind: `kind-${i}`,
    }));
    const result = withFailing({
      checks: [failedCheck('effectsPerKey', many), failedCheck('replayIdentical', [])],
    });
    const lines = githubAnnotations(result, '/tmp/reports/run');
    expect(lines).toHaveLength(SHOWN_VIOLATIONS + 1);
    expect(lines.every((line) => line.startsWith('::error '))).toBe(true);
    // The check without anomalies comes first, not hidden behind the other check's 70 defects.
    expect(lines[0]).toContain('title=payments <fail> & "friends" · replayIdentical::');
    expect(lines[SHOWN_VIOLATIONS]).toBe(
      '::error title=idemproof::21 more defects not annotated; every one is in the report: /tmp/reports/run/index.html',
    );
  });

  it('warns when the run was stopped or could not decide', () => {
    const { result } = buildFixture();
    const stopped = githubAnnotations(
      {
        ...result,
        stopped: {
          kind: 'crashed',
          detail: 'idemproof crashed',
          attemptsPlanned: 20,
          requestsSent: 3,
        },
      },
      '/r',
    );
    expect(stopped).toHaveLength(3);
    expect(stopped[0]).toBe(
      '::warning title=idemproof CRASHED::FAIL: 2 defects (2 violations) in 2 checks · CRASHED: idemproof crashed, after 9 of 20 planned attempts; the checks cover only what was recorded',
    );
    const undecided: RunResult = {
      ...result,
      valid: 'unknown',
      scenarios: result.scenarios.filter((scenario) => scenario.name !== FAIL),
    };
    expect(githubAnnotations(undecided, '/r')).toEqual([
      '::warning title=idemproof UNKNOWN::UNKNOWN: 2 of 5 checks could not decide · 2 scenarios stopped early',
    ]);
    expect(githubAnnotations({ ...undecided, valid: true, scenarios: [] }, '/r')).toEqual([]);
  });
});

describe('github reporter: registry and defaults', () => {
  it('is made by name', () => {
    expect(createReporters(['github'], test.context).map((reporter) => reporter.name)).toEqual([
      'github',
    ]);
  });

  it('joins the default reporters of `idemproof run` inside GitHub Actions only', () => {
    expect(runReporters(undefined, { GITHUB_ACTIONS: 'true' })).toEqual([
      ...DEFAULT_REPORTERS,
      'github',
    ]);
    expect(runReporters(undefined, {})).toBeUndefined();
    expect(runReporters(undefined, { GITHUB_ACTIONS: 'false' })).toBeUndefined();
    // --reporter wins, in and out of GitHub Actions.
    expect(runReporters('html,junit', { GITHUB_ACTIONS: 'true' })).toEqual(['html', 'junit']);
    expect(runReporters('github', {})).toEqual(['github']);
    expect(() => runReporters('gitlab', { GITHUB_ACTIONS: 'true' })).toThrow(
      'expected a comma-separated list of terminal, html, junit, json, github',
    );
  });
});
