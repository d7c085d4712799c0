import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { planScenario } from '../../../src/plan/plan.js';
import { scenarioJsonSchema } from '../../../src/scenario/json-schema.js';
import { loadScenarioFiles } from '../../../src/scenario/load.js';
import { PROFILES } from '../../../src/scenario/profile.js';

const scenario = (burst: string): string => `name: release pause
target:
  baseUrl: http://127.0.0.1:8080
  path: /orders
payload:
  template: { sku: 'A-{{marker}}' }
effects:
  http: { url: '/orders?key={{key}}', count: $.count }
patterns:
  - kind: concurrent-burst
    count: 4
    rounds: 2
${burst}`;

describe('concurrent-burst releasePauseMs', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-release-pause-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function load(burst: string) {
    const path = join(folder, `s-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(path, scenario(burst));
    return loadScenarioFiles([path]);
  }

  it("defaults to 'auto', which the plan leaves to the client", async () => {
    const [loaded] = await load('');
    const pattern = loaded?.scenario.patterns[0];
    expect(pattern?.kind === 'concurrent-burst' && pattern.releasePauseMs).toBe('auto');
    const plans = planScenario(loaded!.scenario, PROFILES.default, { seed: 1, run: 'r' });
    const bursts = plans.flatMap((plan) => plan.steps.filter((step) => step.kind === 'burst'));
    expect(bursts).toHaveLength(2);
    for (const burst of bursts) expect(burst).not.toHaveProperty('releasePauseMs');
  });

  it('carries a fixed pause onto every burst of the plan', async () => {
    const [loaded] = await load('    releasePauseMs: 35\n');
    const plans = planScenario(loaded!.scenario, PROFILES.default, { seed: 1, run: 'r' });
    const bursts = plans.flatMap((plan) => plan.steps.filter((step) => step.kind === 'burst'));
    expect(bursts.map((burst) => burst.releasePauseMs)).toEqual([35, 35]);
  });

  it.each([
    ['fast', "releasePauseMs must be 'auto' or a pause in ms from 0 to 1000"],
    ['-1', 'expected number to be >=0'],
    ['5000', 'expected number to be <=1000'],
  ])('refuses releasePauseMs: %s with where and why', async (value, why) => {
    const error = await load(`    releasePauseMs: ${value}\n`).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!isIdemproofError(error))
      throw new Error(`expected an idemproof error, got ${String(error)}`);
    expect(error.message).toMatch(/\.yaml:13:21 at patterns\[0\]\.releasePauseMs/);
    expect(error.message).toContain(why);
  });

  it('is documented in the JSON Schema', () => {
    const text = JSON.stringify(scenarioJsonSchema());
    expect(text).toContain('releasePauseMs');
    expect(text).toMatch(/releasePauseMs[^}]*"default":"auto"/);
  });
});
