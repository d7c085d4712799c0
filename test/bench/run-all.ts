/**
 * `npm run bench`: every benchmark section, one after another, written to
 * reports/bench/<timestamp>.json and a Markdown file beside it. `--tiny` runs each at the
 * smallest size (CI uses it to keep the benchmarks working); `--only a,b` picks sections.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';
import { consumerThroughput } from './consumer-throughput.js';
import { h2Spread } from './h2-spread.js';
import { multiProcess } from './multi-process.js';
import type { Benchmark, BenchSection } from './section.js';
import { scale } from './scale.js';
import { spread } from './spread.js';
import { suite } from './suite.js';
import { throughput } from './throughput.js';

const SECTIONS: Record<string, Benchmark> = {
  spread,
  'multi-process': multiProcess,
  'h2-spread': h2Spread,
  throughput,
  scale,
  suite,
  'consumer-throughput': consumerThroughput,
};

const args = process.argv.slice(2);
const tiny = args.includes('--tiny');
const only = args.includes('--only')
  ? (args[args.indexOf('--only') + 1] ?? '').split(',')
  : Object.keys(SECTIONS);
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const results: (BenchSection | { name: string; error: string })[] = [];
for (const name of only) {
  const benchmark = SECTIONS[name];
  if (benchmark === undefined)
    throw new Error(`unknown benchmark '${name}'; known: ${Object.keys(SECTIONS).join(', ')}`);
  log(`== ${name}${tiny ? ' (tiny)' : ''}`);
  try {
    results.push(await benchmark({ tiny, log }));
  } catch (error) {
    results.push({
      name,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const folder = join(PACKAGE_ROOT, 'reports', 'bench');
await mkdir(folder, { recursive: true });
const machine = {
  cpus: cpus().length,
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
};
await writeFile(
  join(folder, `${stamp}.json`),
  `${JSON.stringify({ tiny, machine, sections: results }, null, 2)}\n`,
);
const markdown = results
  .map((section) =>
    'error' in section
      ? `## ${section.name}\n\nFailed: ${section.error.split('\n')[0] ?? ''}`
      : `## ${section.name}\n\nTarget: ${section.target}. Met: ${section.met === null ? 'not judged (tiny run)' : section.met ? 'yes' : 'no'}.\n\n${section.table}\n\n${section.limits}`,
  )
  .join('\n\n');
await writeFile(
  join(folder, `${stamp}.md`),
  `# idemproof benchmarks${tiny ? ' (tiny)' : ''}\n\n${markdown}\n`,
);
process.stdout.write(`${markdown}\n\nwritten: reports/bench/${stamp}.json and .md\n`);
process.exitCode = results.some((section) => 'error' in section) ? 1 : 0;
