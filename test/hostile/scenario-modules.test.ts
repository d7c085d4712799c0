import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliWithin, type CliResult } from '../support/cli.js';

/**
 * Scenario modules are code, run in a child process with time, memory and size limits: none
 * can hang the CLI, crash it, print into its output, or choose its exit code. Each hostile
 * module goes through the built CLI three ways (validate, validate --json, run); each must end
 * with exit 2 and a message naming the file, with no stack trace.
 */

/** Every CLI call is killed after this long: a broken guarantee fails the test, not the machine. */
const cli = cliWithin(40_000);

/** Nothing listens on the discard port: a run that got as far as Toxiproxy would fail there. */
const NO_TOXIPROXY = 'http://127.0.0.1:9';

/** A valid scenario as module source, for the cases whose harm is not in the data. */
const VALID = `{
  name: 'NAME',
  target: { baseUrl: 'http://127.0.0.1:8080', path: '/orders' },
  payload: { template: { sku: 'A-{{marker}}' } },
  effects: { http: { url: '/orders?key={{key}}', count: '$.count' } },
  patterns: [{ kind: 'sequential-duplicates' }],
}`;

interface HostileModule {
  readonly name: string;
  readonly source: string;
  /** What the error must say (besides the file name). */
  readonly says: RegExp;
}

const HOSTILE: readonly HostileModule[] = [
  {
    name: 'exits.scenario.mjs',
    source: 'process.exit(0);\n',
    says: /exited \(code 0\) before exporting a scenario/,
  },
  {
    name: 'loops.scenario.mjs',
    source: 'while (true) {}\n',
    says: /did not export its scenario within 10 s/,
  },
  {
    name: 'getter.scenario.mjs',
    source: `export default { get name() { throw new Error('planted getter'); } };\n`,
    says: /at name: a getter or setter/,
  },
  {
    name: 'throws-null.scenario.mjs',
    source: 'throw Object.create(null);\n',
    says: /cannot load the module: threw an object that is not an Error/,
  },
  {
    name: 'deep.scenario.mjs',
    source: 'let o = {}; for (let i = 0; i < 200000; i++) o = { a: o };\nexport default o;\n',
    says: /nested more than 100 levels deep/,
  },
  {
    name: 'polluted.scenario.mjs',
    source: `Object.defineProperty(Object.prototype, 'toJSON', { get() { throw new Error('planted'); } });
Object.prototype.patterns = 'polluted';
Array.prototype.push = () => { throw new Error('planted push'); };
JSON.stringify = () => { throw new Error('planted stringify'); };
export default { name: 'polluted' };\n`,
    says: /at target: missing/,
  },
  {
    name: 'bigint.scenario.mjs',
    source: 'export default { name: 10n };\n',
    says: /at name: a BigInt/,
  },
  {
    name: 'function.scenario.mjs',
    source: 'export default { name: () => "x" };\n',
    says: /at name: a function/,
  },
  {
    name: 'cycle.scenario.mjs',
    source: 'const o = { name: "c" }; o.self = o;\nexport default o;\n',
    says: /at self: a cycle/,
  },
  {
    name: 'memory.scenario.mjs',
    source: 'const a = []; while (true) a.push(new Array(1e6).fill(1));\n',
    says: /used more than 256 MB of memory/,
  },
  {
    name: 'large.scenario.mjs',
    // 50 MB: refused by its size, before anything runs.
    source: `export default ${VALID.replace('NAME', 'large')};\n/*${'x'.repeat(50_000_000)}*/\n`,
    says: /the file is 50\.0 MB; scenario files are limited to 1 MB/,
  },
  {
    name: 'throws-later.scenario.mjs',
    source:
      'setTimeout(() => { throw 42; }, 10);\nawait new Promise((r) => setTimeout(r, 1000));\n',
    says: /the module failed: threw number 42/,
  },
];

/** "✗ file" then the message: exit 2, the file named, no stack trace, nothing else printed. */
function expectRefused(
  result: CliResult,
  module: HostileModule,
  output: 'stdout' | 'stderr',
): void {
  const text = result[output];
  expect(result.code, `${module.name}: ${result.stdout}${result.stderr}`).toBe(2);
  expect(text).toContain(module.name);
  expect(text).toMatch(module.says);
  expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  expect(result.stdout).not.toContain('HELLO FROM THE MODULE');
}

describe('hostile scenario modules, through the built CLI', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'idemproof-hostile-modules-'));
    for (const module of HOSTILE) writeFileSync(join(folder, module.name), module.source);
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it.each(HOSTILE)(
    '$name: validate, validate --json and run end with exit 2 naming the file',
    async (module) => {
      const started = performance.now();
      const [text, json, run] = await Promise.all([
        cli(['validate', module.name], {}, folder),
        cli(['validate', '--json', module.name], {}, folder),
        cli(
          [
            'run',
            module.name,
            '--toxiproxy',
            NO_TOXIPROXY,
            '--report-dir',
            join(folder, 'reports'),
          ],
          { TOXIPROXY_URL: NO_TOXIPROXY },
          folder,
        ),
      ]);
      expect(performance.now() - started).toBeLessThan(30_000);
      expectRefused(text, module, 'stdout');
      expect(text.stdout).toMatch(new RegExp(`^✗ ${module.name.replace('.', '\\.')}$`, 'm'));
      expectRefused(json, module, 'stdout');
      const results = JSON.parse(json.stdout) as { file: string; valid: boolean; error: string }[];
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ file: module.name, valid: false, scenarios: [] });
      expect(results[0]?.error).toMatch(module.says);
      expectRefused(run, module, 'stderr');
      expect(run.stderr).toContain('(IDEMPROOF_ERR_SCENARIO)');
    },
  );

  it('process.exit(0) cannot force the gate green: an invalid file beside it still fails', async () => {
    const gate = mkdtempSync(join(folder, 'gate-'));
    writeFileSync(join(gate, 'a-exits.scenario.mjs'), 'process.exit(0);\n');
    writeFileSync(join(gate, 'b-invalid.yaml'), 'name: invalid\n');
    const result = await cli(['validate', gate], {}, folder);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^✗ \S*a-exits\.scenario\.mjs$/m);
    expect(result.stdout).toMatch(/^✗ \S*b-invalid\.yaml$/m);
    expect(result.stdout).toMatch(/^2 of 2 files invalid$/m);
    const run = await cli(
      ['run', gate, '--toxiproxy', NO_TOXIPROXY, '--report-dir', join(folder, 'reports')],
      { TOXIPROXY_URL: NO_TOXIPROXY },
      folder,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a-exits.scenario.mjs');
  });

  it('console.log in a module does not reach the output: validate --json stays JSON', async () => {
    const name = 'noisy.scenario.mjs';
    writeFileSync(
      join(folder, name),
      `console.log('HELLO FROM THE MODULE'); console.error('HELLO FROM THE MODULE');
process.stdout.write('{"forged": true}\\n');
export default ${VALID.replace('NAME', 'noisy')};\n`,
    );
    const result = await cli(['validate', '--json', name], {}, folder);
    expect(result.code).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain('HELLO FROM THE MODULE');
    expect(JSON.parse(result.stdout)).toEqual([
      { file: name, valid: true, scenarios: [expect.objectContaining({ name: 'noisy' })] },
    ]);
  });

  it('a timer left running does not keep validate alive', async () => {
    const name = 'timer.scenario.mjs';
    writeFileSync(
      join(folder, name),
      `setInterval(() => {}, 1000);\nexport default ${VALID.replace('NAME', 'timer')};\n`,
    );
    const started = performance.now();
    const result = await cli(['validate', name], {}, folder);
    expect(result.code, result.stderr).toBe(0);
    expect(performance.now() - started).toBeLessThan(8_000);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'run answers %s while a module loops: exits at once and kills the module',
    async (signal) => {
      const name = `loops-${signal}.scenario.mjs`;
      writeFileSync(join(folder, name), 'while (true) {}\n');
      const child = spawn(
        process.execPath,
        [BIN, 'run', name, '--toxiproxy', NO_TOXIPROXY, '--report-dir', join(folder, 'reports')],
        { cwd: folder, env: { ...process.env, TOXIPROXY_URL: NO_TOXIPROXY } },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      // Long enough for the evaluator to start and enter the loop.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const started = performance.now();
      child.kill(signal);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(code, stderr).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(await evaluatorsOf(name)).toEqual([]);
    },
  );
});

/** Pids of evaluator processes still running for this module (Linux /proc; none elsewhere). */
async function evaluatorsOf(name: string): Promise<string[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids = await readdir('/proc').catch(() => [] as string[]);
  const found: string[] = [];
  for (const pid of pids.filter((entry) => /^\d+$/.test(entry))) {
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (command.includes('module-child') && command.includes(name)) found.push(pid);
  }
  return found;
}
