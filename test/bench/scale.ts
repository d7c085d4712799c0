/**
 * Benchmark section "scale": how the checkers and the HTML report cope with big histories.
 * Each size runs in a child process (scale-worker.ts) so the peak RSS of one size does not
 * pollute the next; the 10^5 one also renders the HTML report. Figures only, never asserted.
 *
 *   npx tsx test/bench/scale.ts [--tiny]     prints the section as JSON
 */
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { markdownTable, type BenchOptions, type BenchSection, type Benchmark } from './section.js';
import type { WorkerReport } from './scale-worker.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));

const CHECK_SIZES = [10_000, 100_000, 1_000_000];
const TINY_CHECK_SIZES = [1_000, 10_000];
const HTML_SIZE = 100_000;
/** Full mode also checks 10^6 events holding a copy of every body and header list per event. */
const COPIES_SIZE = 1_000_000;
const TINY_HTML_SIZE = 10_000;

/** Targets from the issue. */
const CHECK_MS_LIMIT = 10_000;
const RSS_MIB_LIMIT = 1024;
const HTML_BYTES_LIMIT = 10_000_000;
const TARGET_SIZE = 1_000_000;

/** Runs one size in a fresh node process (tsx loader) and parses the JSON line it prints. */
function runWorker(
  size: number,
  flags: { readonly html: boolean; readonly copies: boolean },
  log: (line: string) => void,
): Promise<WorkerReport> {
  const args = ['--import', 'tsx', WORKER, String(size)];
  if (flags.html) args.push('--html');
  if (flags.copies) args.push('--copies');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || line === '') {
        const why = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
        reject(new Error(`scale worker (${size} events) failed with ${why}: ${stderr.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(line) as WorkerReport);
      } catch (error) {
        reject(new Error(`scale worker (${size} events) printed no JSON: ${String(error)}`));
      }
      if (stderr.trim() !== '') log(`scale worker (${size} events): ${stderr.trim()}`);
    });
  });
}

const power = (size: number): string => {
  const exponent = Math.log10(size);
  return Number.isInteger(exponent) ? `10^${exponent}` : String(size);
};

/** The slowest checker and its share of the check time. */
function slowest(report: WorkerReport): string {
  const [name, ms] = Object.entries(report.checkerMs).sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
  return name === '' ? '–' : `${name} ${Math.round(ms)} ms`;
}

export const scale: Benchmark = async (options: BenchOptions): Promise<BenchSection> => {
  const sizes = options.tiny ? TINY_CHECK_SIZES : CHECK_SIZES;
  const htmlSize = options.tiny ? TINY_HTML_SIZE : HTML_SIZE;
  const runs = [
    ...sizes.map((size) => ({ size, html: size === htmlSize, copies: false })),
    ...(options.tiny ? [] : [{ size: COPIES_SIZE, html: false, copies: true }]),
  ];
  const checks: WorkerReport[] = [];
  let copies: WorkerReport | undefined;
  for (const run of runs) {
    const what = run.copies ? ' (a copy of every body per event)' : '';
    options.log(`scale: ${power(run.size)} events${what}: building and checking…`);
    const report = await runWorker(run.size, run, options.log);
    options.log(
      `scale: ${report.events} events${what}: build ${Math.round(report.buildMs)} ms, check ${Math.round(report.checkMs)} ms (CPU ${Math.round(report.checkCpuMs)} ms), peak RSS ${report.peakRssMiB} MiB, ${report.anomalies} anomalies`,
    );
    if (run.copies) copies = report;
    else checks.push(report);
  }
  const htmlRun = checks.find((report) => report.html !== undefined);
  if (htmlRun?.html === undefined) throw new Error('scale: no worker wrote the HTML report');
  const html = htmlRun.html;
  options.log(
    `scale: index.html for ${htmlRun.events} events: ${html.bytes} bytes in ${Math.round(html.writeMs)} ms`,
  );

  const atTarget = checks.find((report) => report.events >= TARGET_SIZE);
  const met =
    options.tiny || atTarget === undefined
      ? null
      : atTarget.checkMs <= CHECK_MS_LIMIT &&
        atTarget.peakRssMiB <= RSS_MIB_LIMIT &&
        html.bytes <= HTML_BYTES_LIMIT;

  const checkRow = (label: string, report: WorkerReport): (string | number)[] => [
    label,
    report.events,
    report.keys,
    Math.round(report.buildMs),
    Math.round(report.checkMs),
    Math.round(report.checkCpuMs),
    report.peakRssMiB,
    slowest(report),
    report.anomalies,
  ];
  const rows = [
    ...checks.map((report) => checkRow('check', report)),
    ...(copies === undefined ? [] : [checkRow('check, a copy per event', copies)]),
    [
      'HTML report',
      htmlRun.events,
      htmlRun.keys,
      '–',
      Math.round(html.writeMs),
      '–',
      html.peakRssMiB,
      `index.html ${(html.bytes / 1e6).toFixed(2)} MB`,
      htmlRun.anomalies,
    ],
  ];
  const table = markdownTable(
    [
      'measurement',
      'events',
      'keys',
      'build (ms)',
      'time (ms)',
      'CPU (ms)',
      'peak RSS (MiB)',
      'slowest checker / output',
      'anomalies',
    ],
    rows,
  );

  return {
    name: 'scale',
    target:
      `10^6 events checked in ≤ ${CHECK_MS_LIMIT / 1000} s with peak RSS ≤ 1 GiB; ` +
      `index.html for 10^5 events ≤ 10 MB (${HTML_BYTES_LIMIT} bytes)`,
    met,
    figures: {
      machine: {
        cpus: cpus().length,
        memoryMiB: Math.round(totalmem() / 1024 / 1024),
        node: process.version,
      },
      checks,
      copies: copies ?? null,
      html: { events: htmlRun.events, ...html },
      limits: {
        checkMs: CHECK_MS_LIMIT,
        peakRssMiB: RSS_MIB_LIMIT,
        htmlBytes: HTML_BYTES_LIMIT,
      },
    },
    limits:
      `Measured on a ${cpus().length}-core machine, one node process per size (peak RSS includes ` +
      'node, the tsx loader and the history itself, about 80 MiB before the history is built); ' +
      'wall times move with other load on the machine, CPU times less. Synthetic histories: one ' +
      'scenario, about 11 events per key (a few attempts each through fault lanes: replays, ' +
      'lost responses, timeouts, undelivered requests, bursts, different payloads, tenants, ' +
      'requests without a key, out-of-order resources with state readings, an effect reading ' +
      'per key), about 0.5% of keys with a planted anomaly and 0.2% of effect readings failed. ' +
      'The generator shares body strings, digests and header lists between events that carry ' +
      'the same ones; in a real run every response arrives as a copy of its own, which the ' +
      'recorder interns; the "a copy per event" row builds such copies and interns them.',
    table,
  };
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tiny = process.argv.includes('--tiny');
  const section = await scale({
    tiny,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(section, null, 2)}\n`);
}
