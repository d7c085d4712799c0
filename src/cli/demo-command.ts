import { onStopRequest } from '../provision/cleanup.js';
import { FLAWS, FLAW_NAMES, parseFlaw } from '../demo/flaws.js';
import { startDemoStack } from '../demo/stack.js';
import { redactDatabaseUrl } from '../provision/postgres.js';
import type { Output } from './output.js';
import { parseDuration, parseWholeNumber } from './parse-options.js';

export interface DemoCommandOptions {
  readonly flaw?: string;
  readonly port?: string;
  readonly databaseUrl?: string;
  readonly toxiproxy?: string;
  readonly keyTtl?: string;
  readonly processingMs?: string;
  readonly stopAfter?: string;
}

export const DEMO_FLAWS_HELP = `\nFlaws (--flaw):\n${FLAW_NAMES.map((name) => `  ${name.padEnd(22)} ${FLAWS[name]}`).join('\n')}`;

/**
 * `idemproof demo`: starts PostgreSQL, the demo target and Toxiproxy, prints where they
 * listen, and runs until Ctrl-C (or --stop-after), then stops and removes all of it.
 */
export async function demoCommand(options: DemoCommandOptions, output: Output): Promise<void> {
  const flaw = parseFlaw(options.flaw);
  const targetPort =
    options.port === undefined ? 0 : parseWholeNumber('--port', options.port, 0, 65535);
  const keyTtlMs =
    options.keyTtl === undefined ? undefined : parseDuration('--key-ttl', options.keyTtl);
  const processingMs =
    options.processingMs === undefined
      ? undefined
      : parseWholeNumber('--processing-ms', options.processingMs, 0, 600_000);
  const stopAfterMs =
    options.stopAfter === undefined ? undefined : parseDuration('--stop-after', options.stopAfter);

  output.info('idemproof demo: starting PostgreSQL, the demo target and Toxiproxy…');
  const stack = await startDemoStack({
    flaw,
    databaseUrl: options.databaseUrl,
    toxiproxyUrl: options.toxiproxy,
    targetPort,
    ...(keyTtlMs === undefined ? {} : { keyTtlMs }),
    ...(processingMs === undefined ? {} : { processingMs }),
    log: (line) => output.error(`demo target: ${line}`),
  });
  try {
    const postgresLine = stack.postgres.embedded
      ? `${redactDatabaseUrl(stack.postgres.url)} (embedded, removed on exit)`
      : redactDatabaseUrl(stack.postgres.url);
    output.result(
      [
        'idemproof demo: ready',
        `  PostgreSQL      ${postgresLine}`,
        `  demo target     ${stack.target.url}   flaw: ${flaw}${flaw === 'none' ? ' (correct behaviour)' : ` (${FLAWS[flaw]})`}`,
        `  Toxiproxy API   ${stack.toxiproxy.url}   ${stack.toxiproxy.description}`,
        `  through proxy   ${stack.proxyUrl}   proxy ${stack.cleanProxy.name} -> ${stack.cleanProxy.upstream}`,
        '',
        'Try:',
        `  curl -i -X POST ${stack.proxyUrl}/payments -H 'Idempotency-Key: demo-1' \\`,
        `    -H 'Content-Type: application/json' -d '{"amount":1000,"currency":"EUR","customer":"cus_1"}'`,
        '',
        stopAfterMs === undefined
          ? 'Press Ctrl-C to stop; everything started here is stopped and removed.'
          : `Stopping in ${stopAfterMs / 1000} s (or on Ctrl-C); everything started here is then removed.`,
      ].join('\n'),
    );
    await untilStopRequested(stopAfterMs);
    output.info('idemproof demo: stopping…');
  } finally {
    await stack.stop();
  }
  output.info('idemproof demo: stopped; proxies removed, processes ended, temporary data deleted.');
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
