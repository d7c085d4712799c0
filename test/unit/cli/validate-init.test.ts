import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../../src/cli/exit-codes.js';
import {
  SCHEMA_FILE,
  TEMPLATE_FILE,
  initCommand,
  schemaReference,
  starterScenario,
} from '../../../src/cli/init-command.js';
import type { Output } from '../../../src/cli/output.js';
import { createProgram } from '../../../src/cli/program.js';
import {
  formatValidation,
  validateCommand,
  validateFiles,
} from '../../../src/cli/validate-command.js';
import { IdemproofError } from '../../../src/errors.js';

const TEMPLATE = readFileSync(TEMPLATE_FILE, 'utf8');
/** How many patterns the template lists: what a valid copy of it must report. */
const TEMPLATE_PATTERNS = (parse(TEMPLATE) as { patterns: unknown[] }).patterns.length;

interface Captured extends Output {
  readonly lines: string[];
}

function captured(): Captured {
  const lines: string[] = [];
  const push = (text: string): void => {
    lines.push(text);
  };
  return { lines, result: push, info: push, error: push };
}

/** The template under another scenario name (names must be unique across files). */
function templateNamed(name: string): string {
  return TEMPLATE.replace(/^name: .*$/m, `name: ${name}`);
}

interface StarterDocument {
  readonly name: string;
  readonly target: { baseUrl: string; path: string; allowHosts: string[] };
  readonly key: { header: string };
  readonly effects: { http: { url: string } };
}

function readStarter(file: string): { text: string; document: StarterDocument } {
  const text = readFileSync(file, 'utf8');
  return { text, document: parse(text) as StarterDocument };
}

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'idemproof-validate-init-'));
});
afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('idemproof validate', () => {
  it('reports every file, valid or not, and exits 2 when one is invalid', async () => {
    writeFileSync(join(folder, 'a-good.yaml'), templateNamed('good one'));
    writeFileSync(join(folder, 'b-schema.yaml'), 'name: broken\ntarget: { baseUrl: 1 }\n');
    writeFileSync(join(folder, 'c-syntax.yaml'), 'name: [unclosed\n');
    writeFileSync(join(folder, 'd-good.yaml'), templateNamed('good two'));
    const missing = join(folder, 'missing.yaml');

    const results = await validateFiles([folder, missing]);

    expect(results.map((result) => [result.file.split('/').pop(), result.valid])).toEqual([
      ['a-good.yaml', true],
      ['b-schema.yaml', false],
      ['c-syntax.yaml', false],
      ['d-good.yaml', true],
      ['missing.yaml', false],
    ]);
    expect(results[0]?.scenarios).toEqual([
      expect.objectContaining({ name: 'good one', patterns: TEMPLATE_PATTERNS }),
    ]);
    expect(results[0]?.scenarios[0]?.attempts).toBeGreaterThan(TEMPLATE_PATTERNS);
    expect(results[1]?.error).toMatch(/b-schema\.yaml:2:\d+ at target\.baseUrl/);
    expect(results[2]?.error).toMatch(/c-syntax\.yaml:\d+:\d+: invalid YAML/);
    expect(results[4]?.error).toMatch(/no such scenario file or folder: .*missing\.yaml/);

    const output = captured();
    const code = await validateCommand([folder, missing], {}, output);
    expect(code).toBe(EXIT_CODES.usage);
    const text = output.lines.join('\n');
    expect(text).toMatch(
      new RegExp(
        `^✓ \\S*a-good\\.yaml \\(${TEMPLATE_PATTERNS} patterns, \\d+ attempts planned\\)$`,
        'm',
      ),
    );
    expect(text).toMatch(/^✗ \S*b-schema\.yaml$/m);
    expect(text).toMatch(/^✗ \S*c-syntax\.yaml$/m);
    expect(text).toMatch(/^✓ \S*d-good\.yaml /m);
    expect(text).toMatch(/^✗ \S*missing\.yaml$/m);
    expect(text).toMatch(/^ {6}\S*b-schema\.yaml:2:\d+ at target\.baseUrl/m);
    expect(text).toMatch(/^3 of 5 files invalid$/m);
  });

  it('exits 0 on the shipped demo and template scenarios, sending nothing', async () => {
    const output = captured();
    const scenarios = resolve(dirname(TEMPLATE_FILE), '..');
    const code = await validateCommand(
      [join(scenarios, 'demo'), join(scenarios, 'template')],
      {},
      output,
    );
    expect(output.lines.join('\n')).not.toMatch(/✗/);
    expect(code).toBe(EXIT_CODES.ok);
    expect(output.lines.join('\n')).toMatch(/^7 files valid$/m);
    // The template's tenant tokens come from the environment: named, with where they are used.
    expect(output.lines.join('\n')).toMatch(
      /warning: environment variable TOKEN_A is not set \(used at \S*my-api\.yaml:\d+:\d+ at target\.tenants\.tenant-a\.Authorization\)/,
    );
  });

  it('refuses a scenario name used by an earlier file, naming both', async () => {
    writeFileSync(join(folder, 'one.yaml'), templateNamed('same'));
    writeFileSync(join(folder, 'two.yaml'), templateNamed('same'));
    const [one, two] = await validateFiles([folder]);
    expect(one?.valid).toBe(true);
    expect(two?.valid).toBe(false);
    expect(two?.error).toMatch(/two\.yaml: scenario name 'same' is also used by \S*one\.yaml/);
  });

  it('refuses a host outside loopback unless the file or --allow-host names it, as run does', async () => {
    const file = join(folder, 'staging.yaml');
    writeFileSync(
      file,
      TEMPLATE.replace(/^ {2}baseUrl: \S+/m, '  baseUrl: http://staging.example.com'),
    );
    const [refused] = await validateFiles([file]);
    expect(refused?.valid).toBe(false);
    expect(refused?.error).toMatch(/outside loopback.*--allow-host staging\.example\.com/);
    const [allowed] = await validateFiles([file], ['staging.example.com']);
    expect(allowed?.valid).toBe(true);
  });

  it('prints a JSON array of {file, valid, error?, scenarios} with --json', async () => {
    writeFileSync(join(folder, 'good.yaml'), templateNamed('json'));
    writeFileSync(join(folder, 'bad.yaml'), 'name: x\n');
    const output = captured();
    const code = await validateCommand([folder], { json: true }, output);
    expect(code).toBe(EXIT_CODES.usage);
    const parsed = JSON.parse(output.lines.join('\n')) as unknown;
    expect(parsed).toEqual([
      {
        file: expect.stringMatching(/bad\.yaml$/) as unknown,
        valid: false,
        error: expect.stringMatching(/bad\.yaml/) as unknown,
        scenarios: [],
      },
      {
        file: expect.stringMatching(/good\.yaml$/) as unknown,
        valid: true,
        scenarios: [
          {
            name: 'json',
            patterns: TEMPLATE_PATTERNS,
            attempts: expect.any(Number) as unknown,
            notes: [],
            warnings: [
              expect.stringMatching(/TOKEN_A is not set \(used at \S*good\.yaml:17:32/) as unknown,
              expect.stringMatching(/TOKEN_B is not set \(used at \S*good\.yaml:18:32/) as unknown,
            ],
          },
        ],
      },
    ]);
  });

  it('formats planner notes under the file and counts files', () => {
    const text = formatValidation([
      {
        file: 'a.yaml',
        valid: true,
        scenarios: [
          { name: 'a', patterns: 1, attempts: 1, notes: ['delayed-retries#1: 2h left out'] },
          { name: 'b', patterns: 2, attempts: 7, notes: [] },
        ],
      },
    ]);
    expect(text).toBe(
      [
        '✓ a.yaml (2 scenarios, 3 patterns, 8 attempts planned)',
        '    note: delayed-retries#1: 2h left out',
        '1 file valid',
      ].join('\n'),
    );
  });

  it('escapes file names and lists skipped modules apart from the count', () => {
    const text = formatValidation([
      { file: 'x\n✓ forged.yaml\u001b[2J', valid: false, error: 'invalid', scenarios: [] },
      {
        file: 'helpers.ts',
        valid: true,
        skipped: 'not named *.scenario.ts, so not run',
        scenarios: [],
      },
    ]);
    expect(text).toBe(
      [
        '✗ x\\n✓ forged.yaml\\u001b[2J',
        '    invalid',
        '- helpers.ts (skipped: not named *.scenario.ts, so not run)',
        '1 of 1 file invalid, 1 skipped (not named *.scenario.<ext>, not run)',
      ].join('\n'),
    );
  });

  it('lists modules a folder scan skips, and never runs them', async () => {
    const marker = join(folder, 'ran');
    writeFileSync(join(folder, 'a.yaml'), templateNamed('only one'));
    writeFileSync(
      join(folder, 'helper.mjs'),
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\n`,
    );
    const results = await validateFiles([folder]);
    expect(
      results.map(({ file, valid, skipped }) => [file.split('/').pop(), valid, skipped]),
    ).toEqual([
      ['a.yaml', true, undefined],
      ['helper.mjs', true, 'not named *.scenario.mjs, so not run'],
    ]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('idemproof init', () => {
  it('writes a commented starter for a loopback target that validates, with the schema modeline', async () => {
    const out = join(folder, 'idemproof.yaml');
    const output = captured();
    await initCommand({ target: 'http://127.0.0.1:9090', out }, output);

    const { text, document } = readStarter(out);
    expect(document.target.baseUrl).toBe('http://127.0.0.1:9090');
    expect(document.target.allowHosts).toEqual([]);
    expect(text).not.toMatch(/outside loopback:/);
    // Commented like the template: its field comments survive.
    expect(text).toContain('# hosts outside loopback it may send to');
    const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
    expect(modeline).toBeDefined();
    expect(resolve(folder, modeline ?? '')).toBe(SCHEMA_FILE);
    expect(existsSync(SCHEMA_FILE)).toBe(true);
    expect(output.lines.join('\n')).toContain(`idemproof validate ${out}`);

    const [result] = await validateFiles([out]);
    expect(result?.error).toBeUndefined();
    expect(result?.valid).toBe(true);
  });

  it('pre-fills allowHosts with a target outside loopback, says why, and still validates', async () => {
    const out = join(folder, 'staging.yaml');
    await initCommand(
      {
        target: 'http://staging.example.com:8443',
        out,
        path: '/v1/payments',
        keyHeader: 'PayPal-Request-Id',
      },
      captured(),
    );
    const { text, document } = readStarter(out);
    expect(document.target.allowHosts).toEqual(['staging.example.com']);
    expect(text).toMatch(/# staging\.example\.com is outside loopback: idemproof sends/);
    expect(document.target.path).toBe('/v1/payments');
    expect(document.key.header).toBe('PayPal-Request-Id');
    expect(document.effects.http.url).toBe('/v1/payments?idempotency_key={{key}}');
    expect(document.name).toBe('staging.example.com:8443 /v1/payments');
    // Valid without --allow-host: the file names the host itself.
    const [result] = await validateFiles([out]);
    expect(result?.error).toBeUndefined();
    expect(result?.valid).toBe(true);
  });

  it('refuses to overwrite a file without --force, and overwrites it with --force', async () => {
    const out = join(folder, 'idemproof.yaml');
    writeFileSync(out, 'mine\n');
    const refused = initCommand({ target: 'http://127.0.0.1:8080', out }, captured());
    await expect(refused).rejects.toBeInstanceOf(IdemproofError);
    await expect(refused).rejects.toMatchObject({
      category: 'usage',
      message: expect.stringMatching(/idemproof\.yaml already exists; pass --force/) as unknown,
    });
    expect(readFileSync(out, 'utf8')).toBe('mine\n');

    await initCommand({ target: 'http://127.0.0.1:8080', out, force: true }, captured());
    expect(readStarter(out).document.target.baseUrl).toBe('http://127.0.0.1:8080');
  });

  it('creates the folder of --out, and the modeline follows the file', async () => {
    const out = join(folder, 'deep', 'er', 'api.yaml');
    await initCommand({ target: 'http://localhost:3000', out }, captured());
    const modeline = /\$schema=(\S+)/.exec(readFileSync(out, 'utf8'))?.[1] ?? '';
    expect(resolve(dirname(out), modeline)).toBe(SCHEMA_FILE);
    expect(schemaReference(join(dirname(SCHEMA_FILE), 'x.yaml'))).toBe('./scenario.schema.json');
  });

  it.each([
    [{ target: 'not a url' }, /not a URL/],
    [{ target: 'ftp://api.example.com' }, /only http:\/\/ and https:\/\/ targets/],
    [{ target: 'http://127.0.0.1:8080', path: 'v1/orders' }, /--path 'v1\/orders'/],
    [{ target: 'http://127.0.0.1:8080', keyHeader: 'Idempotency Key' }, /--key-header/],
  ])('refuses bad options (%o) without writing anything', async (options, message) => {
    const out = join(folder, 'idemproof.yaml');
    await expect(initCommand({ ...options, out }, captured())).rejects.toMatchObject({
      category: 'usage',
      message: expect.stringMatching(message) as unknown,
    });
    expect(existsSync(out)).toBe(false);
  });

  it('fails loudly, not silently, when the template no longer has a line it fills in', () => {
    const drifted = TEMPLATE.replace(/^ {2}baseUrl: .*$/m, '  base_url: x');
    expect(() =>
      starterScenario(drifted, { target: 'http://127.0.0.1:1', schema: 'x.json' }),
    ).toThrow(/no longer has a line matching/);
  });
});

describe('--help', () => {
  function helpOf(command: Command): string {
    let text = '';
    command.configureOutput({ writeOut: (chunk) => (text += chunk) });
    command.outputHelp();
    return text;
  }

  const program = createProgram(captured());

  it('lists validate and init among the commands', () => {
    expect(program.commands.map((command) => command.name())).toEqual(
      expect.arrayContaining(['validate', 'init']),
    );
  });

  it.each(program.commands.map((command) => command.name()))(
    'of %s has examples, one a line that starts with `idemproof <command>`',
    (name) => {
      const command = program.commands.find((candidate) => candidate.name() === name);
      const help = command === undefined ? '' : helpOf(command);
      expect(help).toContain('\nExamples:\n');
      expect(help.split('\n').some((line) => line.startsWith(`  idemproof ${name}`))).toBe(true);
    },
  );

  it('of the program has examples, before the exit codes', () => {
    const help = helpOf(program);
    expect(help).toMatch(/\nExamples:\n(?: {2}.*\n)*? {2}idemproof init --target /);
    expect(help.indexOf('Examples:')).toBeLessThan(help.indexOf('Exit codes:'));
  });

  it('examples use only options their command declares', () => {
    const unknown = program.commands.flatMap((command) => {
      const declared = new Set(command.options.map((option) => option.long));
      return helpOf(command)
        .split('\n')
        .filter((line) => line.startsWith(`  idemproof ${command.name()}`))
        .flatMap((line) => line.match(/--[a-z-]+/g) ?? [])
        .filter((flag) => !declared.has(flag))
        .map((flag) => `${command.name()} ${flag}`);
    });
    expect(unknown).toEqual([]);
  });
});
