import { IdemproofError } from '../errors.js';
import { RABBITMQ_APT_COMMAND } from './rabbitmq-install.js';

/**
 * "Where does RabbitMQ come from?" answered in one place, in this order:
 * 1. an existing broker named by the `url` option, `IDEMPROOF_RABBITMQ_URL` or `AMQP_URL`;
 * 2. a private node started from Debian's `rabbitmq-server` scripts (found, never installed
 *    here: `ensureRabbitmq` installs them);
 * 3. a `rabbitmq:3-management` container through testcontainers, when a Docker engine answers;
 * 4. otherwise an error that names these three ways.
 *
 * This file only decides; `rabbitmq.ts` acts on the decision.
 *
 * Must not: probe anything an earlier way makes unnecessary.
 */

export const RABBITMQ_IMAGE = 'rabbitmq:3-management';

export type RabbitmqUrlOrigin = 'option' | 'IDEMPROOF_RABBITMQ_URL' | 'AMQP_URL';

export type RabbitmqChoice =
  | { readonly way: 'url'; readonly url: string; readonly origin: RabbitmqUrlOrigin }
  | { readonly way: 'private-node'; readonly server: string }
  | { readonly way: 'container'; readonly image: string };

/** What the choice depends on. Probes are only called when the earlier ways are absent. */
export interface RabbitmqFacts {
  readonly optionUrl?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** The `rabbitmq-server` script, or why there is none. */
  serverScript(): Promise<string | { readonly missing: string }>;
  /** true when a Docker engine answers, otherwise the reason it does not. */
  dockerEngine(): Promise<true | string>;
}

export async function chooseRabbitmq(facts: RabbitmqFacts): Promise<RabbitmqChoice> {
  const urls: [RabbitmqUrlOrigin, string | undefined][] = [
    ['option', facts.optionUrl],
    ['IDEMPROOF_RABBITMQ_URL', facts.env.IDEMPROOF_RABBITMQ_URL],
    ['AMQP_URL', facts.env.AMQP_URL],
  ];
  for (const [origin, raw] of urls) {
    const url = raw?.trim();
    if (url) return { way: 'url', url: checkAmqpUrl(url, origin), origin };
  }
  const server = await facts.serverScript();
  if (typeof server === 'string') return { way: 'private-node', server };
  const docker = await facts.dockerEngine();
  if (docker === true) return { way: 'container', image: RABBITMQ_IMAGE };
  throw new IdemproofError(
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    [
      'RabbitMQ is not available. idemproof looks for it in three ways, in this order:',
      '  1. an existing broker: set IDEMPROOF_RABBITMQ_URL (or AMQP_URL), e.g. amqp://guest:guest@127.0.0.1:5672;',
      `  2. a private node from the rabbitmq-server scripts: ${server.missing}; install them as root with`,
      `     '${RABBITMQ_APT_COMMAND}' (Debian, Ubuntu);`,
      `  3. a Docker engine, where testcontainers starts ${RABBITMQ_IMAGE}: ${docker}.`,
    ].join('\n'),
  );
}

/** An amqp:// or amqps:// URL, or a usage error that names where the bad value came from. */
function checkAmqpUrl(url: string, origin: RabbitmqUrlOrigin): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !['amqp:', 'amqps:'].includes(parsed.protocol)) {
    const where = origin === 'option' ? 'the RabbitMQ URL' : origin;
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${where} is not an AMQP URL (expected e.g. amqp://guest:guest@127.0.0.1:5672): ` +
        redactAmqpUrl(url),
    );
  }
  return url;
}

/** The URL with any password replaced by `***`, for messages and reports. */
export function redactAmqpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable AMQP URL>';
  }
}
