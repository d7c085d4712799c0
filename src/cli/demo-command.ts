import { IdemproofError } from '../errors.js';
import { onStopRequest } from '../provision/cleanup.js';
import { FLAWS, FLAW_NAMES, parseFlaw } from '../demo/flaws.js';
import { startDemoStack } from '../demo/stack.js';
import { redactDatabaseUrl } from '../provision/postgres.js';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../provision/tools-dir.js';
import { DEFAULT_REPORTERS, runSuite } from '../run/run.js';
import { EXIT_CODES } from './exit-codes.js';
import type { Output } from './output.js';
import { reporterOption } from './reporter-option.js';
import { exitCodeOf } from './run-command.js';
import { demoConsumerCommand } from './demo-consumer.js';
import { parseDuration, parseRepeat, parseSeed, parseWholeNumber } from './parse-options.js';

export interface DemoCommandOptions {
  readonly serve?: boolean;
  readonly https?: boolean;
  readonly recordArrivals?: boolean;
  readonly seed?: string;
  readonly repeat?: string;
  readonly reportDir?: string;
  readonly reporter?: string;
  readonly flaw?: string;
  readonly port?: string;
  /** Port of the store proxy on 127.0.0.1; 0 or absent picks a free one. */
  readonly storePort?: string;
  readonly databaseUrl?: string;
  readonly toxiproxy?: string;
  readonly keyTtl?: string;
  readonly processingMs?: string;
  readonly stopAfter?: string;
  /** Run the demo target as a child process that scenarios can crash and restart. */
  readonly process?: boolean;
  /** With --process: worker processes under node:cluster sharing the port. */
  readonly workers?: string;
  /** Test the demo message consumer behind this broker (rabbitmq or kafka) instead of the API. */
  readonly consumer?: string;
  /** With --consumer: an existing broker (amqp:// URL or Kafka bootstrap). */
  readonly brokerUrl?: string;
}

export const DEMO_FLAWS_HELP = `\nFlaws (--flaw):\n${FLAW_NAMES.map((name) => `  ${name.padEnd(22)} ${FLAWS[name]}`).join('\n')}`;

/** The built-in suite that `idemproof demo` runs. */
export const DEMO_SUITE = join(PACKAGE_ROOT, 'scenarios', 'demo');
/** The demo keeps keys 10 minutes, so the suite's delayed retries can test retention in seconds. */
export const DEMO_KEY_TTL_MS = 10 * 60 * 1000;
/** The demo's simulated payment provider takes 20 ms, like a fast real one. */
export const DEMO_PROCESSING_MS = 20;

/**
 * `idemproof demo`: starts PostgreSQL, the demo target and Toxiproxy, runs the built-in suite
 * against them and writes its report (exit code as for `run`); with --serve, prints where they
 * listen and runs until Ctrl-C (or --stop-after) instead. Everything started is removed.
 */
export async function demoCommand(options: DemoCommandOptions, output: Output): Promise<number> {
  if (options.consumer !== undefined)
    return demoConsumerCommand({ ...options, consumer: options.consumer }, output);
  const flaw = parseFlaw(options.flaw);
  const targetPort =
    options.port === undefined ? 0 : parseWholeNumber('--port', options.port, 0, 65535);
  const storePort =
    options.storePort === undefined
      ? 0
      : parseWholeNumber('--store-port', options.storePort, 0, 65535);
  const keyTtlMs =
    options.keyTtl === undefined ? DEMO_KEY_TTL_MS : parseDuration('--key-ttl', options.keyTtl);
  const processingMs =
    options.processingMs === undefined
      ? DEMO_PROCESSING_MS
      : parseWholeNumber('--processing-ms', options.processingMs, 0, 600_000);
  const reporters = reporterOption(options.reporter, DEFAULT_REPORTERS);
  const seed = parseSeed(options.seed);
  const repeat = parseRepeat(options.repeat);
  const stopAfterMs =
    options.stopAfter === undefined ? undefined : parseDuration('--stop-after', options.stopAfter);
  if (options.https === true && options.serve !== true) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      '--https needs --serve: the built-in suite targets http; point your own scenarios (target.tls.ca: the printed CA) at the HTTPS demo',
    );
  }

  output.info('idemproof demo: starting PostgreSQL, the demo target and Toxiproxy…');
  const stack = await startDemoStack({
    flaw,
    databaseUrl: options.databaseUrl,
    toxiproxyUrl: options.toxiproxy,
    targetPort,
    storePort,
    keyTtlMs,
    processingMs,
    recordArrivals: options.recordArrivals === true,
    https: options.https === true,
    ...(options.process === true || options.workers !== undefined
      ? {
          targetProcess: {
            workers:
              options.workers === undefined
                ? 1
                : parseWholeNumber('--workers', options.workers, 1, 64),
          },
        }
      : {}),
    log: (line) => output.error(`demo target: ${line}`),
  });
  let exitCode: number = EXIT_CODES.ok;
  // Scenarios crash and restart the demo target with process: {kill: 'eval "$IDEMPROOF_DEMO_KILL"', …}.
  if (stack.process !== undefined) {
    process.env.IDEMPROOF_DEMO_KILL = stack.process.commands.kill;
    process.env.IDEMPROOF_DEMO_START = stack.process.commands.start;
    process.env.IDEMPROOF_DEMO_PID_FILE = stack.process.pidFile;
  }
  // Scenarios name the demo's store proxy as a dependency with ${IDEMPROOF_DEMO_STORE_…}.
  if (stack.store !== undefined) {
    process.env.IDEMPROOF_DEMO_STORE_LISTEN = stack.store.listen;
    process.env.IDEMPROOF_DEMO_STORE_UPSTREAM = stack.store.upstream;
  }
  try {
    const postgresLine = stack.postgres.embedded
      ? `${redactDatabaseUrl(stack.postgres.url)} (embedded, removed on exit)`
      : redactDatabaseUrl(stack.postgres.url);
    const where = [
      'idemproof demo: ready',
      `  PostgreSQL      ${postgresLine}`,
      `  demo target     ${stack.target.url}   flaw: ${flaw}${flaw === 'none' ? ' (correct behaviour)' : ` (${FLAWS[flaw]})`}`,
      `  Toxiproxy API   ${stack.toxiproxy.url}   ${stack.toxiproxy.description}`,
      `  through proxy   ${stack.proxyUrl}   proxy ${stack.cleanProxy.name} -> ${stack.cleanProxy.upstream}`,
      ...(stack.store === undefined
        ? []
        : [
            `  store proxy     ${stack.store.listen}   proxy ${stack.store.name} -> ${stack.store.upstream} (the target's PostgreSQL goes through it)`,
          ]),
      ...(stack.process === undefined
        ? []
        : [
            `  target process  PID file ${stack.process.pidFile} (process: {kill: 'eval "$IDEMPROOF_DEMO_KILL"', start: 'eval "$IDEMPROOF_DEMO_START"', ready: {url: /health}})`,
          ]),
      ...(stack.tls === undefined
        ? []
        : [`  TLS CA          ${stack.tls.ca}   (target.tls.ca; client: ${stack.tls.clientCert})`]),
    ];
    if (options.serve === true) {
      output.result(
        [
          ...where,
          '',
          'Try:',
          `  curl -i${stack.tls === undefined ? '' : ` --cacert ${stack.tls.ca}`} -X POST ${stack.proxyUrl}/payments -H 'Idempotency-Key: demo-1' \\`,
          `    -H 'Content-Type: application/json' -d '{"amount":1000,"currency":"EUR","customer":"cus_1"}'`,
          ...(stack.store === undefined
            ? []
            : [
                '',
                'Dependency faults in its database (scenarios/demo/dependency-chaos.yaml names them so):',
                `  export IDEMPROOF_DEMO_STORE_LISTEN=${stack.store.listen} IDEMPROOF_DEMO_STORE_UPSTREAM=${stack.store.upstream}`,
              ]),
          ...(stack.process === undefined
            ? []
            : [
                '',
                'Crash and restart it from your scenarios (set these where you run idemproof):',
                `  export IDEMPROOF_DEMO_KILL=${shellQuote(stack.process.commands.kill)}`,
                `  export IDEMPROOF_DEMO_START=${shellQuote(stack.process.commands.start)}`,
              ]),
          '',
          stopAfterMs === undefined
            ? 'Press Ctrl-C to stop; everything started here is stopped and removed.'
            : `Stopping in ${stopAfterMs / 1000} s (or on Ctrl-C); everything started here is then removed.`,
        ].join('\n'),
      );
      await untilStopRequested(stopAfterMs);
    } else {
      output.info(where.join('\n'));
      output.info(
        `idemproof demo: running the built-in suite (${relative(process.cwd(), DEMO_SUITE) || DEMO_SUITE})…`,
      );
      const outcome = await runSuite({
        paths: [DEMO_SUITE],
        target: stack.target.url,
        toxiproxyUrl: stack.toxiproxy.url,
        seed,
        repeat,
        reportDir: options.reportDir,
        reporters,
        out: output.result,
        err: output.error,
        interactive: process.stderr.isTTY,
        replayCommand: (suiteSeed) =>
          `idemproof demo${flaw === 'none' ? '' : ` --flaw ${flaw}`} --seed ${suiteSeed}${
            repeat === undefined || repeat === 1 ? '' : ` --repeat ${repeat}`
          }`,
      });
      exitCode = exitCodeOf(outcome);
    }
    output.info('idemproof demo: stopping…');
  } finally {
    await stack.stop();
  }
  output.info('idemproof demo: stopped; proxies removed, processes ended, temporary data deleted.');
  return exitCode;
}

/** A word the shell reads back as `text`. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function untilStopRequested(stopAfterMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = onStopRequest(() => {
      clearTimeout(timer);
      resolve();
    });
    if (stopAfterMs !== undefined) {
      timer = setTimeout(() => {
        stop();
        resolve();
      }, stopAfterMs);
    }
  });
}
