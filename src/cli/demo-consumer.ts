import { CONSUMER_FLAWS, type ConsumerFlaw } from '../demo/consumer/types.js';
import { startConsumerStack, type DemoBroker } from '../demo/consumer/stack.js';
import { IdemproofError } from '../errors.js';
import { PACKAGE_ROOT } from '../provision/tools-dir.js';
import { redactDatabaseUrl } from '../provision/postgres.js';
import { DEFAULT_REPORTERS, runSuite } from '../run/run.js';
import { join } from 'node:path';
import type { Output } from './output.js';
import { reporterOption } from './reporter-option.js';
import { exitCodeOf } from './run-command.js';
import { parseSeed } from './parse-options.js';

/** What each demo consumer flaw does, for --help. */
export const CONSUMER_FLAW_HELP: Readonly<Record<ConsumerFlaw, string>> = {
  none: "correct: an inbox of processed ids written in the effect's transaction",
  'no-inbox': 'no inbox: every delivery is processed',
  'inbox-after-effect': 'the effect is committed first, the inbox checked after it',
  'inbox-outside-transaction':
    'the inbox is read before and written after the ack, in its own transaction',
  'offset-dedupe': 'dedupes by the Kafka offset, not the message id (Kafka only)',
  'poison-blocks': 'a poison message is retried forever and never dead-lettered',
  'last-write-wins': 'the state takes whatever event arrives last, whatever its version',
};

export const CONSUMER_FLAWS_HELP = `\nFlaws with --consumer (--flaw):\n${CONSUMER_FLAWS.map((name) => `  ${name.padEnd(26)} ${CONSUMER_FLAW_HELP[name]}`).join('\n')}`;

/** The built-in consumer scenarios, one per broker. */
export const CONSUMER_SUITE = join(PACKAGE_ROOT, 'scenarios', 'consumers');

export interface DemoConsumerCommandOptions {
  readonly consumer: string;
  readonly flaw?: string;
  readonly seed?: string;
  readonly reportDir?: string;
  readonly reporter?: string;
  readonly databaseUrl?: string;
  readonly toxiproxy?: string;
  readonly brokerUrl?: string;
}

function parseBroker(value: string): DemoBroker {
  if (value === 'rabbitmq' || value === 'kafka') return value;
  throw new IdemproofError(
    'IDEMPROOF_ERR_USAGE',
    `--consumer takes rabbitmq or kafka, not '${value}'`,
  );
}

function parseConsumerFlaw(value: string | undefined, broker: DemoBroker): ConsumerFlaw {
  const flaw = value ?? 'none';
  if (!(CONSUMER_FLAWS as readonly string[]).includes(flaw)) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `--flaw with --consumer takes one of ${CONSUMER_FLAWS.join(', ')}, not '${flaw}'`,
    );
  }
  if (flaw === 'offset-dedupe' && broker !== 'kafka')
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      '--flaw offset-dedupe is a Kafka flaw: use --consumer kafka',
    );
  return flaw as ConsumerFlaw;
}

/**
 * `idemproof demo --consumer rabbitmq|kafka`: starts PostgreSQL, Toxiproxy, a real broker and
 * the demo consumer behind a lane, runs scenarios/consumers/<broker>.yaml against it and
 * reports (exit code as for `run`). Everything started is removed.
 */
export async function demoConsumerCommand(
  options: DemoConsumerCommandOptions,
  output: Output,
): Promise<number> {
  const broker = parseBroker(options.consumer);
  const flaw = parseConsumerFlaw(options.flaw, broker);
  const seed = parseSeed(options.seed);
  const reporters = reporterOption(options.reporter, DEFAULT_REPORTERS);
  output.info(`idemproof demo: starting PostgreSQL, Toxiproxy, ${broker} and the demo consumer…`);
  const stack = await startConsumerStack({
    broker,
    flaw,
    databaseUrl: options.databaseUrl,
    toxiproxyUrl: options.toxiproxy,
    brokerUrl: options.brokerUrl,
    log: (line) => output.error(`demo consumer: ${line}`),
  });
  let exitCode: number;
  try {
    Object.assign(process.env, stack.env);
    output.info(
      [
        'idemproof demo: ready',
        `  PostgreSQL      ${redactDatabaseUrl(stack.postgres.url)}`,
        `  broker          ${stack.brokerDescription}`,
        `  broker lane     ${stack.lane.listen}   proxy ${stack.lane.name} -> ${stack.lane.upstream} (the consumer connects through it)`,
        `  demo consumer   ${stack.consumer.description}`,
      ].join('\n'),
    );
    const scenario = join(CONSUMER_SUITE, `${broker}.yaml`);
    const outcome = await runSuite({
      paths: [scenario],
      toxiproxyUrl: stack.toxiproxy.url,
      seed,
      reportDir: options.reportDir,
      reporters,
      out: output.result,
      err: output.error,
      interactive: process.stderr.isTTY,
      replayCommand: (suiteSeed) =>
        `idemproof demo --consumer ${broker}${flaw === 'none' ? '' : ` --flaw ${flaw}`} --seed ${suiteSeed}`,
    });
    exitCode = exitCodeOf(outcome);
    output.info('idemproof demo: stopping…');
  } finally {
    await stack.stop();
  }
  output.info(
    'idemproof demo: stopped; broker, consumer and proxies removed, temporary data deleted.',
  );
  return exitCode;
}
