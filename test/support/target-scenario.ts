import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadScenarioFiles, type LoadedScenario } from '../../src/scenario/load.js';

let written = 0;

/**
 * Writes a minimal scenario into `folder` whose `target` block is `target` (indented lines
 * after `path: /orders`, e.g. `  baseUrl: https://localhost:8443`) and loads it: for tests of
 * target fields, whose errors name lines from line 4 on.
 */
export async function loadTargetScenario(
  folder: string,
  target: string,
): Promise<LoadedScenario[]> {
  written += 1;
  const path = join(folder, `target-${process.pid}-${written}.yaml`);
  const text = [
    'name: target fields',
    'target:',
    '  path: /orders',
    target,
    "payload: { template: { sku: 'A-{{marker}}' } }",
    "effects: { http: { url: '/orders?key={{key}}', count: $.count } }",
    'patterns: [{ kind: sequential-duplicates }]',
    '',
  ].join('\n');
  await writeFile(path, text);
  return loadScenarioFiles([path]);
}
