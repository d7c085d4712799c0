import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { PACKAGE_ROOT } from '../../../src/provision/tools-dir.js';
import { loadSuiteFiles } from '../../../src/consumer/load.js';
import { loadScenarioFiles } from '../../../src/scenario/load.js';
import { consumerJsonSchema, scenarioJsonSchema } from '../../../src/scenario/json-schema.js';

const MINIMAL = `name: minimal
target:
  baseUrl: http://127.0.0.1:8080
  path: /orders
payload:
  template: { sku: 'A-{{marker}}' }
effects:
  http: { url: '/orders?key={{key}}', count: $.count }
patterns:
  - kind: sequential-duplicates
`;

describe('scenario files', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-scenarios-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function write(name: string, text: string): Promise<string> {
    const path = join(folder, name);
    await writeFile(path, text);
    return path;
  }

  async function failure(path: string): Promise<{ code: string; message: string }> {
    const error = await loadScenarioFiles([path]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!isIdemproofError(error))
      throw new Error(`expected an idemproof error, got ${String(error)}`);
    return { code: error.code, message: error.message };
  }

  it('loads a minimal YAML scenario and fills the defaults', async () => {
    const [loaded] = await loadScenarioFiles([await write('minimal.yaml', MINIMAL)]);
    expect(loaded?.scenario).toMatchObject({
      name: 'minimal',
      target: { method: 'POST', timeoutMs: 10_000, tenants: {} },
      key: { header: 'Idempotency-Key', template: 'idp-{{run}}-{{n}}', quoted: false },
      profile: 'default',
      patterns: [{ kind: 'sequential-duplicates', count: 3, lanes: ['clean'] }],
    });
  });

  it('names the file, line, column and path of a wrong value, and what was expected', async () => {
    const path = await write(
      'bad.yaml',
      MINIMAL.replace('http://127.0.0.1:8080', 'not a url').replace(
        'kind: sequential-duplicates',
        'kind: sequential-duplicates\n    count: many',
      ),
    );
    const { code, message } = await failure(path);
    expect(code).toBe('IDEMPROOF_ERR_SCENARIO');
    expect(message).toMatch(/bad\.yaml:3:12 at target\.baseUrl: Invalid URL/);
    expect(message).toMatch(/bad\.yaml:11:12 at patterns\[0\]\.count: .*expected number/i);
  });

  it('points at the parent when a required field is missing', async () => {
    const { message } = await failure(
      await write('missing.yaml', MINIMAL.replace('  path: /orders\n', '')),
    );
    expect(message).toMatch(/missing\.yaml:3:3 at target\.path: .*expected string/i);
  });

  it('rejects unknown fields, which are usually typos', async () => {
    const { message } = await failure(
      await write('typo.yaml', MINIMAL.replace('  path: /orders', '  path: /orders\n  timeout: 5')),
    );
    expect(message).toMatch(/typo\.yaml:3:3 at target: Unrecognized key: "timeout"/);
  });

  it('reports YAML syntax errors with their position', async () => {
    const { code, message } = await failure(
      await write('syntax.yaml', 'name: [unclosed\ntarget: {'),
    );
    expect(code).toBe('IDEMPROOF_ERR_SCENARIO');
    expect(message).toMatch(
      /syntax\.yaml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/,
    );
  });

  it('checks rules that span fields: tenants, state probes, key templates, profiles', async () => {
    const text = MINIMAL.replace(
      'patterns:\n  - kind: sequential-duplicates\n',
      `key: { template: 'fixed' }
profile: paypal
patterns:
  - kind: sequential-duplicates
    tenant: carol
  - kind: out-of-order
    operations: [{ s: 1 }, { s: 2 }]
    lateDuplicateOf: 1
`,
    );
    const { message } = await failure(await write('rules.yaml', text));
    expect(message).toContain("at profile: unknown profile 'paypal'");
    expect(message).toContain(
      'at key.template: pattern out-of-order (#2) needs 2 distinct keys, but the key template "fixed" gives them all one key',
    );
    expect(message).toContain("at patterns[0].tenant: unknown tenant 'carol'");
    expect(message).toContain('at patterns[1].kind: out-of-order needs a state probe');
    expect(message).toContain(
      'at patterns[1].lateDuplicateOf: must name an operation before the last one',
    );
  });

  it('loads TypeScript scenario modules written with defineScenario', async () => {
    const path = await write(
      'orders.scenario.ts',
      `import { defineScenario } from ${JSON.stringify(join(PACKAGE_ROOT, 'src', 'scenario', 'define.ts'))};
const port: number = 8080;
export default defineScenario({
  name: 'from typescript',
  target: { baseUrl: \`http://127.0.0.1:\${port}\`, path: '/orders' },
  payload: { template: { sku: 'A' } },
  effects: { sql: { url: '\${DATABASE_URL}', query: 'select 1' } },
  patterns: [{ kind: 'concurrent-burst', count: 4 }],
});
`,
    );
    const [loaded] = await loadScenarioFiles([path]);
    expect(loaded?.scenario.name).toBe('from typescript');
    expect(loaded?.scenario.patterns[0]).toMatchObject({
      kind: 'concurrent-burst',
      count: 4,
      rounds: 3,
    });
  });

  it('validates TypeScript scenarios like YAML ones, naming the path', async () => {
    const path = await write(
      'broken.scenario.mjs',
      `export default { name: 'x', target: { baseUrl: 'http://a', path: 'no-slash' } };\n`,
    );
    const { message } = await failure(path);
    expect(message).toMatch(/broken\.scenario\.mjs at target\.path: .*"\/"/);
  });

  it('expands folders recursively and refuses duplicate scenario names', async () => {
    await mkdir(join(folder, 'nested'));
    await write('a.yaml', MINIMAL);
    await write('nested/b.yml', MINIMAL.replace('name: minimal', 'name: other'));
    await write('notes.txt', 'not a scenario');
    expect((await loadScenarioFiles([folder])).map(({ scenario }) => scenario.name)).toEqual([
      'minimal',
      'other',
    ]);
    await write('nested/c.yaml', MINIMAL);
    expect((await failure(folder)).message).toContain("scenario name 'minimal' is also used by");
  });

  it('loads only scenarios from a folder: YAML and *.scenario.<ext>; other modules are skipped, not run', async () => {
    const marker = join(folder, 'helper-ran');
    const helper = `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\nexport default {};\n`;
    await write('helper.ts', helper);
    await write('config.mjs', helper);
    await write('types.d.ts', 'export type X = 1;\n');
    await write('a.yaml', MINIMAL);
    await write('shared.ts', `export const path = '/orders';\n`);
    await write(
      'b.scenario.ts',
      `import { path } from './shared.ts';
export default { ...${JSON.stringify({
        name: 'from a module',
        target: { baseUrl: 'http://127.0.0.1:8080' },
        payload: { template: {} },
        effects: { sink: {} },
        patterns: [{ kind: 'missing-key' }],
      })}, target: { baseUrl: 'http://127.0.0.1:8080', path } };
`,
    );
    const skipped: string[] = [];
    const loaded = await loadScenarioFiles([folder], {
      onSkipped: ({ file, reason }) => skipped.push(`${file.split('/').pop()}: ${reason}`),
    });
    expect(loaded.map(({ scenario }) => scenario.name)).toEqual(['minimal', 'from a module']);
    expect(loaded[1]?.scenario.target.path).toBe('/orders');
    expect(skipped).toEqual([
      'config.mjs: not named *.scenario.mjs, so not run',
      'helper.ts: not named *.scenario.ts, so not run',
      'shared.ts: not named *.scenario.ts, so not run',
    ]);
    expect(existsSync(marker)).toBe(false);
  });

  it('names the skipped modules when a folder holds no scenario', async () => {
    await write('orders.ts', 'export default {};\n');
    const { code, message } = await failure(folder);
    expect(code).toBe('IDEMPROOF_ERR_USAGE');
    expect(message).toMatch(
      /no scenario files \(.*\*\.scenario\.ts.*\) in folder .*; skipped: .*orders\.ts$/,
    );
  });

  it.skipIf(process.platform === 'win32')(
    'refuses a FIFO, named or in a folder, by its stat',
    async () => {
      execFileSync('mkfifo', [join(folder, 'x.yaml')]);
      const named = await failure(join(folder, 'x.yaml'));
      expect(named.code).toBe('IDEMPROOF_ERR_SCENARIO');
      expect(named.message).toMatch(/x\.yaml: not a regular file \(a named pipe\)/);
      expect((await failure(folder)).message).toMatch(/x\.yaml: not a regular file/);
    },
  );

  it('treats a missing path or an empty folder as a usage error', async () => {
    expect((await failure(join(folder, 'nope.yaml'))).code).toBe('IDEMPROOF_ERR_USAGE');
    expect((await failure(folder)).message).toContain('no scenario files');
  });

  it('ships a built-in suite and a template that load', async () => {
    const { http: loaded, consumers } = await loadSuiteFiles([join(PACKAGE_ROOT, 'scenarios')]);
    expect(consumers.map(({ scenario }) => scenario.name).sort()).toEqual([
      'demo consumer (Kafka)',
      'demo consumer (RabbitMQ)',
    ]);
    // scenarios/conformance: one file per public vector (test/integration/conformance runs them).
    const conformance = (file: string): boolean => file.includes('conformance');
    expect(loaded.filter(({ file }) => conformance(file))).toHaveLength(50);
    const shipped = loaded.filter(({ file }) => !conformance(file));
    expect(shipped.map(({ scenario }) => scenario.name).sort()).toEqual([
      'demo charges (Stripe-style)',
      'demo dependency chaos',
      'demo flaky downstream',
      'demo orders',
      'demo payment webhooks',
      'demo payments',
      'my API, create order',
    ]);
  });

  it('ships the JSON Schema generated from the model, up to date', () => {
    const shipped = JSON.parse(
      readFileSync(join(PACKAGE_ROOT, 'scenarios', 'scenario.schema.json'), 'utf8'),
    ) as unknown;
    expect(
      shipped,
      'regenerate with: node dist/cli/bin.js schema > scenarios/scenario.schema.json',
    ).toEqual(scenarioJsonSchema());
    const consumer = JSON.parse(
      readFileSync(join(PACKAGE_ROOT, 'scenarios', 'consumer.schema.json'), 'utf8'),
    ) as unknown;
    expect(consumer, 'regenerate with: npm run schema').toEqual(consumerJsonSchema());
  });
});
