/**
 * Benchmark: requests per second on POST /payments of the demo target, autocannon against
 * idemproof. autocannon hits the target directly with a unique Idempotency-Key per request;
 * idemproof runs a sequential-duplicates and, separately, a concurrent-burst scenario through
 * `runSuite` (clean fault lane over Toxiproxy, full history, json reporter). The three runs are
 * interleaved and repeated, so machine noise falls on all of them alike; medians are reported.
 *
 * `npx tsx test/bench/throughput.ts [--tiny]` runs this section alone and prints it as JSON.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { DEMO_SUITE } from '../../src/cli/demo-command.js';
import type { HistoryEvent } from '../../src/history/events.js';
import { startPostgres } from '../../src/provision/postgres.js';
import { runSuite } from '../../src/run/run.js';
import { describeSamples, markdownTable, type Benchmark, type BenchSection } from './section.js';
import { serveDemo } from './served-demo.js';

const TARGET_RATIO = 0.8;
/** Burst requests released together, and the schema's cap on rounds per pattern entry. */
const BURST_COUNT = 16;
const MAX_ROUNDS_PER_PATTERN = 20;
const DUPLICATE_COUNT = 4;
/** Bounds on the sizes, so a mis-measured calibration cannot run away. */
const SIZE_BOUNDS = {
  duplicates: { min: 5, max: 20_000 },
  burst: { min: 2, max: 2_000 },
} as const;
const FIXED_BODY = JSON.stringify({ amount: 1999, currency: 'EUR', customer: 'cus_bench' });

type IdemproofKind = keyof typeof SIZE_BOUNDS;

/** The demo target in its own process, and a connection to its database for counting rows. */
interface BenchTarget {
  readonly target: string;
  readonly proxy: string;
  readonly toxiproxyUrl: string;
  readonly pool: pg.Pool;
}

interface Plan {
  readonly durationS: number;
  readonly repeats: number;
  /** Stop starting new work after this long (ms since the section began). */
  readonly deadlineMs: number;
  readonly diagnostics: boolean;
}

interface AutocannonRun {
  readonly tool: 'autocannon';
  readonly label: string;
  readonly repeat: number;
  readonly connections: number;
  readonly via: 'direct' | 'toxiproxy';
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly status2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly keysIssued: number;
  /** Payments the target stored under this run's keys, and how many distinct keys they have. */
  readonly paymentRows: number;
  readonly distinctKeys: number;
}

interface IdemproofRun {
  readonly tool: 'idemproof';
  readonly label: string;
  readonly kind: IdemproofKind;
  readonly repeat: number;
  /** duplicates: pattern entries (one key, 4 requests each); burst: rounds of 16. */
  readonly size: number;
  readonly attempts: number;
  readonly probes: number;
  /** The scenario's durationMs: preflight, lane setup, traffic, lane removal, checks. */
  readonly durationMs: number;
  /** runSuite as a whole, measured outside (adds Toxiproxy lookup and the json report). */
  readonly suiteWallMs: number;
  /** attempts / durationMs: the figure compared with autocannon. */
  readonly rps: number;
  /** (attempts + effect probes) / durationMs: every HTTP request idemproof made. */
  readonly rpsWithProbes: number;
  readonly status2xx: number;
  readonly otherStatus: number;
  readonly errors: number;
  readonly valid: string;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** Rough timings: first request to last event, and the rest of durationMs. */
  readonly trafficMs: number;
  readonly setupAndChecksMs: number;
  /** Sum of attempt durations (sequential: time spent waiting for POST answers). */
  readonly attemptMsSum: number;
  /** burst: the settle pauses waited (one per round): median, min and max in ms. */
  readonly pauseMs?: { readonly median: number; readonly min: number; readonly max: number };
}

const round = (value: number, digits = 1): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** The target, key, payload, effects and profile of the built-in payments scenario. */
async function baseScenario(): Promise<Record<string, unknown>> {
  const source = parse(await readFile(join(DEMO_SUITE, 'payments.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const copy: Record<string, unknown> = {};
  for (const field of ['target', 'key', 'payload', 'effects', 'profile', 'overrides']) {
    if (source[field] !== undefined) copy[field] = source[field];
  }
  return copy;
}

/** Pattern entries for `size` units of the given kind. */
function patternsFor(kind: IdemproofKind, size: number): Record<string, unknown>[] {
  if (kind === 'duplicates') {
    return Array.from({ length: size }, () => ({
      kind: 'sequential-duplicates',
      count: DUPLICATE_COUNT,
      lanes: ['clean'],
    }));
  }
  const patterns: Record<string, unknown>[] = [];
  for (let left = size; left > 0; left -= MAX_ROUNDS_PER_PATTERN) {
    patterns.push({
      kind: 'concurrent-burst',
      count: BURST_COUNT,
      rounds: Math.min(MAX_ROUNDS_PER_PATTERN, left),
    });
  }
  return patterns;
}

function clampSize(kind: IdemproofKind, size: number): number {
  const { min, max } = SIZE_BOUNDS[kind];
  return Math.max(min, Math.min(max, Math.round(size)));
}

async function runIdemproof(input: {
  readonly stack: BenchTarget;
  readonly workDir: string;
  readonly base: Record<string, unknown>;
  readonly kind: IdemproofKind;
  readonly size: number;
  readonly repeat: number;
  readonly label: string;
}): Promise<IdemproofRun> {
  const { stack, workDir, kind, size } = input;
  const name = `throughput ${kind}`;
  const file = join(workDir, 'scenarios', `${kind}-${input.label}.yaml`);
  await writeFile(
    file,
    stringify({
      name,
      ...input.base,
      settleMs: 0,
      // Patterns have their own keys, so several run at once, like autocannon's 16 connections.
      concurrency: kind === 'duplicates' ? 64 : 8,
      patterns: patternsFor(kind, size),
    }),
  );
  const started = performance.now();
  const { result, history } = await runSuite({
    paths: [file],
    target: stack.target,
    toxiproxyUrl: stack.toxiproxyUrl,
    reportDir: join(workDir, 'reports'),
    reporters: ['json'],
    out: () => undefined,
    err: (line) => process.stderr.write(`${line}\n`),
    progress: () => undefined,
    interactive: false,
  });
  const suiteWallMs = performance.now() - started;
  await rm(result.reportDir, { recursive: true, force: true });
  await rm(file, { force: true });

  const scenario = result.scenarios.find((entry) => entry.name === name);
  if (scenario === undefined) throw new Error(`${name}: runSuite returned no result for it`);
  if (scenario.error !== null)
    throw new Error(`${name}: ${scenario.error.code} ${scenario.error.message}`);
  const timings = roughTimings(history);
  const attempts = scenario.attempts.total;
  const seconds = scenario.durationMs / 1000;
  return {
    tool: 'idemproof',
    label: input.label,
    kind,
    repeat: input.repeat,
    size,
    attempts,
    probes: timings.probes,
    durationMs: scenario.durationMs,
    suiteWallMs: Math.round(suiteWallMs),
    rps: round(attempts / seconds),
    rpsWithProbes: round((attempts + timings.probes) / seconds),
    status2xx: timings.status2xx,
    otherStatus: timings.otherStatus,
    errors: scenario.attempts.fail + scenario.attempts.info,
    valid: String(scenario.valid),
    latencyP50Ms: round(scenario.latency.p50, 2),
    latencyP99Ms: round(scenario.latency.p99, 2),
    trafficMs: Math.round(timings.trafficMs),
    setupAndChecksMs: Math.round(Math.max(0, scenario.durationMs - timings.trafficMs)),
    attemptMsSum: Math.round(timings.attemptMsSum),
    ...(timings.pauses.length === 0
      ? {}
      : {
          pauseMs: {
            median: round(describeSamples(timings.pauses).median, 2),
            min: Math.min(...timings.pauses),
            max: Math.max(...timings.pauses),
          },
        }),
  };
}

/** Where the time of a run went, read from its history. */
function roughTimings(history: readonly HistoryEvent[]): {
  probes: number;
  trafficMs: number;
  attemptMsSum: number;
  status2xx: number;
  otherStatus: number;
  /** The settle pause of each burst round (from its first completion). */
  pauses: number[];
} {
  const pauses: number[] = [];
  const roundOf = new Map<string, string>();
  const pausedRounds = new Set<string>();
  let first: number | undefined;
  let last = 0;
  let probes = 0;
  let attemptMsSum = 0;
  let status2xx = 0;
  let otherStatus = 0;
  for (const event of history) {
    if (event.type === 'invoke') first ??= event.time;
    if (first !== undefined) last = Math.max(last, event.time);
    if (event.type === 'probe') probes += 1;
    if (event.type === 'ok' || event.type === 'fail' || event.type === 'info')
      attemptMsSum += event.durationMs;
    if (event.type === 'ok') {
      if (event.response.status >= 200 && event.response.status < 300) status2xx += 1;
      else otherStatus += 1;
    }
    if (event.type === 'invoke' && event.group !== null)
      roundOf.set(event.op, `${event.pattern}/${event.group}`);
    if (
      (event.type === 'ok' || event.type === 'fail' || event.type === 'info') &&
      event.releasePauseMs !== undefined
    ) {
      // One pause per round: every completion of a burst carries it.
      const round = roundOf.get(event.op) ?? event.op;
      if (!pausedRounds.has(round)) {
        pausedRounds.add(round);
        pauses.push(event.releasePauseMs);
      }
    }
  }
  return {
    probes,
    trafficMs: first === undefined ? 0 : last - first,
    attemptMsSum,
    status2xx,
    otherStatus,
    pauses,
  };
}

async function runAutocannon(input: {
  readonly stack: BenchTarget;
  readonly durationS: number;
  readonly connections: number;
  readonly via: 'direct' | 'toxiproxy';
  readonly repeat: number;
  readonly label: string;
}): Promise<AutocannonRun> {
  const { stack } = input;
  const prefix = `ac-${randomBytes(4).toString('hex')}-`;
  let issued = 0;
  const base = input.via === 'direct' ? stack.target : stack.proxy;
  const result = await autocannon({
    url: `${base}/payments`,
    method: 'POST',
    connections: input.connections,
    duration: input.durationS,
    headers: { 'content-type': 'application/json' },
    body: FIXED_BODY,
    requests: [
      {
        method: 'POST',
        path: '/payments',
        // Called for every request: a fresh key each time, so every request is a new payment.
        setupRequest: (request) => {
          issued += 1;
          return {
            ...request,
            headers: { ...request.headers, 'idempotency-key': `${prefix}${issued}` },
          };
        },
      },
    ],
  });
  const stored = await stack.pool.query<{ rows: number; keys: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT idempotency_key)::int AS keys
       FROM payments WHERE tenant = 'public' AND idempotency_key LIKE $1`,
    [`${prefix}%`],
  );
  const requests = result.requests.total;
  return {
    tool: 'autocannon',
    label: input.label,
    repeat: input.repeat,
    connections: input.connections,
    via: input.via,
    requests,
    durationS: result.duration,
    rps: round(requests / result.duration),
    status2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    keysIssued: issued,
    paymentRows: stored.rows[0]?.rows ?? 0,
    distinctKeys: stored.rows[0]?.keys ?? 0,
  };
}

export const throughput: Benchmark = async ({ tiny, log }) => {
  const plan: Plan = tiny
    ? { durationS: 2, repeats: 1, deadlineMs: 3 * 60_000, diagnostics: false }
    : { durationS: 10, repeats: 3, deadlineMs: 12 * 60_000, diagnostics: true };
  const sectionStarted = performance.now();
  const elapsed = (): number => performance.now() - sectionStarted;
  const targetMs = plan.durationS * 1000;

  const base = await baseScenario();
  const workDir = await mkdtemp(join(tmpdir(), 'idemproof-bench-throughput-'));
  await mkdir(join(workDir, 'scenarios'), { recursive: true });
  log(`throughput: starting PostgreSQL and the demo target in its own process (processingMs 0)…`);
  const postgres = await startPostgres();
  const served = await serveDemo({ databaseUrl: postgres.url, keyTtl: '10m' }).catch(
    async (error: unknown) => {
      await postgres.stop();
      throw error;
    },
  );
  const stack: BenchTarget = {
    target: served.target,
    proxy: served.proxy,
    toxiproxyUrl: served.toxiproxyUrl,
    pool: new pg.Pool({ connectionString: postgres.url, max: 2 }),
  };

  const autocannonRuns: AutocannonRun[] = [];
  const idemproofRuns: IdemproofRun[] = [];
  const diagnostics: (AutocannonRun | IdemproofRun)[] = [];
  const calibration: IdemproofRun[] = [];
  let stoppedEarly = false;
  try {
    // Warm-up and calibration: a short run of each, not counted. It warms the JIT, the
    // connection pools and PostgreSQL, and tells how many units fill the target duration.
    const warm = await runAutocannon({
      stack,
      durationS: 1,
      connections: 16,
      via: 'direct',
      repeat: 0,
      label: 'warm-up',
    });
    log(`throughput: autocannon warm-up ${warm.rps} req/s`);
    const sizes: Record<IdemproofKind, number> = { duplicates: 0, burst: 0 };
    const resize = (run: IdemproofRun): void => {
      const msPerUnit = run.durationMs / run.size;
      sizes[run.kind] = clampSize(run.kind, targetMs / Math.max(msPerUnit, 0.01));
    };
    // Two steps per kind: a small run (its fixed costs and a cold start overstate the time per
    // unit), then one sized for half the target duration, whose rate sizes the measured runs.
    for (const kind of ['duplicates', 'burst'] as const) {
      for (const step of [1, 2]) {
        const size =
          step === 1 ? (kind === 'duplicates' ? 25 : 4) : clampSize(kind, sizes[kind] / 2);
        const run = await runIdemproof({
          stack,
          workDir,
          base,
          kind,
          size,
          repeat: 0,
          label: `calibration ${step}`,
        });
        calibration.push(run);
        resize(run);
        log(
          `throughput: idemproof ${kind} calibration ${step}: ${run.rps} req/s over ${run.durationMs} ms → size ${sizes[kind]}`,
        );
      }
    }

    for (let repeat = 1; repeat <= plan.repeats; repeat += 1) {
      if (elapsed() > plan.deadlineMs) {
        stoppedEarly = true;
        log(`throughput: deadline reached, stopping after ${repeat - 1} repeat(s)`);
        break;
      }
      const cannon = await runAutocannon({
        stack,
        durationS: plan.durationS,
        connections: 16,
        via: 'direct',
        repeat,
        label: `autocannon #${repeat}`,
      });
      autocannonRuns.push(cannon);
      log(
        `throughput: ${cannon.label}: ${cannon.rps} req/s (${cannon.requests} in ${cannon.durationS} s)`,
      );
      for (const kind of ['duplicates', 'burst'] as const) {
        const run = await runIdemproof({
          stack,
          workDir,
          base,
          kind,
          size: sizes[kind],
          repeat,
          label: `idemproof ${kind} #${repeat}`,
        });
        idemproofRuns.push(run);
        log(
          `throughput: ${run.label}: ${run.rps} req/s (${run.attempts} attempts in ${run.durationMs} ms, valid ${run.valid})`,
        );
        // Re-size from this run, so the next one lasts about as long as autocannon's.
        resize(run);
      }
    }

    // Diagnostics (full runs only, not in the medians): what separates the two figures.
    if (plan.diagnostics && elapsed() < plan.deadlineMs) {
      const diagnosticS = Math.max(2, Math.round(plan.durationS / 2));
      for (const [connections, via] of [
        [16, 'toxiproxy'],
        [1, 'direct'],
        [1, 'toxiproxy'],
      ] as const) {
        const run = await runAutocannon({
          stack,
          durationS: diagnosticS,
          connections,
          via,
          repeat: 0,
          label: `autocannon ${connections} conn via ${via} (diagnostic)`,
        });
        diagnostics.push(run);
        log(`throughput: ${run.label}: ${run.rps} req/s`);
      }
    }
  } finally {
    await stack.pool.end().catch(() => undefined);
    await served.stop();
    await postgres
      .stop()
      .catch((error: unknown) => log(`throughput: stopping PostgreSQL: ${String(error)}`));
    await rm(workDir, { recursive: true, force: true });
  }

  const cannonStats = describeSamples(autocannonRuns.map((run) => run.rps));
  const statsOf = (kind: IdemproofKind): ReturnType<typeof describeSamples> =>
    describeSamples(idemproofRuns.filter((run) => run.kind === kind).map((run) => run.rps));
  const duplicatesStats = statsOf('duplicates');
  const burstStats = statsOf('burst');
  const ratioOf = (rps: number): number =>
    cannonStats.median > 0 ? round(rps / cannonStats.median, 3) : 0;
  const ratios = {
    duplicates: ratioOf(duplicatesStats.median),
    burst: ratioOf(burstStats.median),
  };
  const complete = autocannonRuns.length > 0 && !stoppedEarly;
  const met =
    tiny || !complete ? null : Object.values(ratios).every((ratio) => ratio >= TARGET_RATIO);

  const rows: (string | number)[][] = [
    ...[...autocannonRuns, ...idemproofRuns]
      .sort((a, b) => a.repeat - b.repeat)
      .map((run) =>
        run.tool === 'autocannon'
          ? [
              run.label,
              '16 connections, 1 key per request',
              run.requests,
              round(run.durationS, 2),
              run.rps,
              '',
            ]
          : [
              run.label,
              run.kind === 'duplicates'
                ? `${run.size} keys × ${DUPLICATE_COUNT} sequential`
                : `${run.size} rounds × ${BURST_COUNT} concurrent`,
              run.attempts,
              round(run.durationMs / 1000, 2),
              run.rps,
              `${run.rpsWithProbes} with probes; valid ${run.valid}${run.pauseMs === undefined ? '' : `; pause median ${run.pauseMs.median} ms (${run.pauseMs.min}–${run.pauseMs.max})`}`,
            ],
      ),
    ['**median autocannon**', '', '', '', cannonStats.median, ''],
    [
      '**median idemproof duplicates**',
      '',
      '',
      '',
      duplicatesStats.median,
      `ratio ${ratios.duplicates}`,
    ],
    ['**median idemproof burst**', '', '', '', burstStats.median, `ratio ${ratios.burst}`],
    ...diagnostics.map((run) => [
      run.label,
      '',
      run.tool === 'autocannon' ? run.requests : run.attempts,
      run.tool === 'autocannon' ? round(run.durationS, 2) : round(run.durationMs / 1000, 2),
      run.rps,
      'not in the medians',
    ]),
  ];

  const section: BenchSection = {
    name: 'throughput',
    target: `idemproof ≥ ${TARGET_RATIO} × autocannon requests per second on POST /payments of the demo target (medians)`,
    met,
    figures: {
      machine: { cpus: cpus().length, node: process.version },
      mode: tiny ? 'tiny' : 'full',
      durationS: plan.durationS,
      repeats: autocannonRuns.length,
      stoppedEarly,
      medians: {
        autocannonRps: cannonStats.median,
        idemproofDuplicatesRps: duplicatesStats.median,
        idemproofBurstRps: burstStats.median,
      },
      ratios,
      spread: { autocannon: cannonStats, duplicates: duplicatesStats, burst: burstStats },
      runs: { autocannon: autocannonRuns, idemproof: idemproofRuns },
      calibration,
      diagnostics,
    },
    limits:
      `One ${cpus().length}-CPU machine: the demo target runs in its own Node process, but shares ` +
      'the cores with the client (autocannon or idemproof), PostgreSQL and Toxiproxy, so a client ' +
      'that spends more CPU takes it from the target. autocannon sends only fresh-key POSTs ' +
      "straight to the target over 16 keep-alive connections; idemproof's POSTs cross Toxiproxy " +
      '(its clean lane), duplicates run 64 keys at once, each one request at a time with three ' +
      'of four being replays; bursts release 16 requests by last byte on kept-alive ' +
      "connections, 8 patterns at once; idemproof's wall time also includes one effect probe " +
      '(GET) per key, preflight, lane setup and removal, history recording and the checks; ' +
      'probes are not counted as requests in the ratio (rpsWithProbes counts them).',
    table: markdownTable(['run', 'load', 'requests', 'seconds', 'req/s', 'note'], rows),
  };
  return section;
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const section = await throughput({
    tiny: process.argv.includes('--tiny'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(section, null, 2)}\n`);
}
