import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWithin, type CliResult } from '../support/cli.js';

/**
 * Input is bounded before anything is built from it: special files are refused by their stat,
 * the plan by counting it from the spec, the YAML document by measuring it before its aliases
 * are expanded; file names print escaped; helper modules beside scenarios never run.
 */

const NO_TOXIPROXY = 'http://127.0.0.1:9';
/** Every CLI call is killed after this long (a FIFO used to block validate forever). */
const cli = cliWithin(20_000);

/** Control characters other than the newlines between lines: what a terminal would obey. */
function hasControlCharacters(text: string): boolean {
  return [...text].some(
    (char) => char !== '\n' && (char.charCodeAt(0) < 0x20 || char === '\u007f'),
  );
}

const HEAD = `name: NAME
target: { baseUrl: 'http://127.0.0.1:8080', path: /orders }
payload: { template: { sku: 'A-{{marker}}' } }
effects: { http: { url: '/orders?key={{key}}', count: $.count } }
`;
const ONE_PATTERN = 'patterns:\n  - kind: sequential-duplicates\n';

function scenario(name: string, rest = ONE_PATTERN): string {
  return HEAD.replace('NAME', name) + rest;
}

function run(args: string[], cwd: string): Promise<CliResult> {
  return cli(
    ['run', ...args, '--toxiproxy', NO_TOXIPROXY, '--report-dir', join(cwd, 'reports')],
    { TOXIPROXY_URL: NO_TOXIPROXY },
    cwd,
  );
}

describe('bounded input, through the built CLI', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'idemproof-hostile-input-'));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it.skipIf(process.platform === 'win32')(
    'a FIFO named x.yaml is refused without being opened, named or inside a folder',
    async () => {
      const pipes = join(folder, 'pipes');
      mkdirSync(pipes);
      writeFileSync(join(pipes, 'a.yaml'), scenario('beside the fifo'));
      execFileSync('mkfifo', [join(pipes, 'x.yaml')]);
      const [named, scanned, json, running] = await Promise.all([
        cli(['validate', 'pipes/x.yaml'], {}, folder),
        cli(['validate', 'pipes'], {}, folder),
        cli(['validate', '--json', 'pipes'], {}, folder),
        run(['pipes/x.yaml'], folder),
      ]);
      expect(named.code).toBe(2);
      expect(named.stdout).toContain('pipes/x.yaml: not a regular file (a named pipe)');
      expect(scanned.code).toBe(2);
      expect(scanned.stdout).toMatch(/^✓ pipes\/a\.yaml /m);
      expect(scanned.stdout).toMatch(/^✗ pipes\/x\.yaml$/m);
      expect(JSON.parse(json.stdout)).toMatchObject([
        { file: 'pipes/a.yaml', valid: true },
        { file: 'pipes/x.yaml', valid: false },
      ]);
      expect(running.code).toBe(2);
      expect(running.stderr).toContain('pipes/x.yaml: not a regular file');
    },
  );

  it('24,000 patterns are refused before any plan is built, with file:line:col', async () => {
    const text = scenario(
      'too many patterns',
      `patterns:\n${'  - {kind: concurrent-burst, count: 20}\n'.repeat(24_000)}`,
    );
    expect(text.length).toBeLessThan(1_000_000);
    writeFileSync(join(folder, 'many.yaml'), text);
    // A 200 MB heap: enough for the bounded loader (it peaks near 190 MB RSS); building the
    // plan first took 550 MB in validate and 810 MB in run.
    const heap = { NODE_OPTIONS: '--max-old-space-size=200' };
    const [validate, capped] = await Promise.all([
      cli(['validate', 'many.yaml'], heap, folder),
      cli(
        ['run', 'many.yaml', '--max-requests', '10', '--toxiproxy', NO_TOXIPROXY],
        { ...heap, TOXIPROXY_URL: NO_TOXIPROXY },
        folder,
      ),
    ]);
    expect(validate.code).toBe(2);
    expect(validate.stdout).toMatch(/many\.yaml:6:3 at patterns: .*<=20000 items/);
    expect(capped.code).toBe(2);
    expect(capped.stderr).toMatch(/many\.yaml:6:3 at patterns: .*<=20000 items/);
  });

  it('a plan of more than 100,000 requests is refused from the spec, before it is built', async () => {
    // 79 bursts of 64 requests × 20 rounds = 101,120 attempts, in a few lines.
    const text = scenario(
      'too many requests',
      `patterns:\n${'  - {kind: concurrent-burst, count: 64, rounds: 20}\n'.repeat(79)}`,
    );
    writeFileSync(join(folder, 'requests.yaml'), text);
    const result = await cli(['validate', 'requests.yaml'], {}, folder);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(
      'requests.yaml:6:3 at patterns: the patterns plan 101120 requests; a scenario may plan at most 100000',
    );
  });

  it('99 aliases of a 0.9 MB string are refused: the expanded size is bounded, not the count', async () => {
    const text = `${HEAD.replace('NAME', 'alias bomb').replace(
      "payload: { template: { sku: 'A-{{marker}}' } }\n",
      `payload:\n  template:\n    a: &big '${'x'.repeat(900_000)}'\n    b: [${Array(98).fill('*big').join(', ')}]\n`,
    )}${ONE_PATTERN}`;
    expect(text.length).toBeLessThan(1_000_000);
    writeFileSync(join(folder, 'aliases.yaml'), text);
    const [validate, running] = await Promise.all([
      cli(['validate', 'aliases.yaml'], {}, folder),
      run(['aliases.yaml'], folder),
    ]);
    expect(validate.code).toBe(2);
    expect(validate.stdout).toMatch(
      /aliases\.yaml:6:\d+: invalid YAML: aliases expand the document to more than 2 MB/,
    );
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/aliases\.yaml:6:\d+: invalid YAML: aliases expand/);
  });

  it('aliases cannot nest a document deeper than 100 levels', async () => {
    // Each part is 60 levels deep, within the limit; the alias puts one inside the other.
    const anchors = `    l0: &l0 ${'['.repeat(60)}1${']'.repeat(60)}\n`;
    const deep = `${'['.repeat(60)}*l0${']'.repeat(60)}`;
    const text = scenario('deep aliases', ONE_PATTERN).replace(
      "payload: { template: { sku: 'A-{{marker}}' } }\n",
      `payload:\n  template:\n${anchors}    deep: ${deep}\n`,
    );
    writeFileSync(join(folder, 'deep.yaml'), text);
    const result = await cli(['validate', 'deep.yaml'], {}, folder);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(
      /deep\.yaml:6:\d+: invalid YAML: aliases nest the document more than 100 levels deep/,
    );
  });

  it.skipIf(process.platform === 'win32')(
    'file names with newlines and escape sequences print escaped',
    async () => {
      const names = join(folder, 'names');
      mkdirSync(names);
      const evil = 'evil\n✓ forged.yaml (1 pattern)\u001b[2J\u001b]0;title\u0007.yaml';
      writeFileSync(join(names, evil), 'name: [unclosed\n');
      writeFileSync(join(names, 'bad\u001b[31mred.yaml'), scenario('red', ''));
      const result = await cli(['validate', 'names'], {}, folder);
      expect(result.code).toBe(2);
      expect(result.stdout).not.toSatisfy(hasControlCharacters);
      expect(result.stdout).not.toMatch(/^✓ forged/m);
      expect(result.stdout).toContain(
        'evil\\n✓ forged.yaml (1 pattern)\\u001b[2J\\u001b]0;title\\u0007.yaml',
      );
      expect(result.stdout).toContain('bad\\u001b[31mred.yaml');
      const json = await cli(['validate', '--json', 'names'], {}, folder);
      const files = (JSON.parse(json.stdout) as { file: string }[]).map(({ file }) => file).sort();
      expect(files).toEqual([join('names', 'bad\u001b[31mred.yaml'), join('names', evil)].sort());
      const running = await run(['names'], folder);
      expect(running.code).toBe(2);
      expect(running.stderr).not.toSatisfy(hasControlCharacters);
    },
  );

  it('helper modules beside scenarios are listed as skipped and never run', async () => {
    const suite = join(folder, 'suite');
    mkdirSync(suite);
    const marker = join(folder, 'helper-ran');
    const helper = `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\n`;
    writeFileSync(join(suite, 'helper.ts'), helper);
    writeFileSync(join(suite, 'config.mjs'), helper);
    writeFileSync(join(suite, 'orders.yaml'), scenario('orders'));
    writeFileSync(
      join(suite, 'payments.scenario.mjs'),
      `export default ${JSON.stringify({
        name: 'payments',
        target: { baseUrl: 'http://127.0.0.1:8080', path: '/payments' },
        payload: { template: { amount: 1 } },
        effects: { http: { url: '/payments?key={{key}}', count: '$.count' } },
        patterns: [{ kind: 'sequential-duplicates' }],
      })};\n`,
    );
    const [text, json, running] = await Promise.all([
      cli(['validate', 'suite'], {}, folder),
      cli(['validate', '--json', 'suite'], {}, folder),
      // The run stops at Toxiproxy (nothing listens there): loading is what is tested.
      run(['suite'], folder),
    ]);
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toMatch(/^✓ suite\/orders\.yaml /m);
    expect(text.stdout).toMatch(/^✓ suite\/payments\.scenario\.mjs /m);
    expect(text.stdout).toMatch(
      /^- suite\/helper\.ts \(skipped: not named \*\.scenario\.ts, so not run\)$/m,
    );
    expect(text.stdout).toMatch(/^2 files valid, 2 skipped/m);
    expect(JSON.parse(json.stdout)).toContainEqual({
      file: 'suite/config.mjs',
      valid: true,
      skipped: 'not named *.scenario.mjs, so not run',
      scenarios: [],
    });
    expect(running.code).not.toBe(0);
    expect(existsSync(marker)).toBe(false);
  });
});
