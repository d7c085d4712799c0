import { IdemproofError } from '../errors.js';

/**
 * "Where does Kafka come from?" answered in one place, in this order:
 * 1. an existing broker named by the caller's URL, `IDEMPROOF_KAFKA_URL` or `KAFKA_BOOTSTRAP`;
 * 2. the Apache Kafka jars that `idemproof setup` resolved from Maven Central into the tools
 *    folder, run with `java`: a throwaway single-node KRaft broker;
 * 3. an `apache/kafka` container through testcontainers, when a Docker engine answers;
 * 4. otherwise an error that names these three ways.
 *
 * This file only decides; `kafka.ts` acts on the decision.
 *
 * Must not: probe anything the choice does not need (a given URL asks nothing).
 */

export const KAFKA_IMAGE = 'apache/kafka:4.1.1';

export type KafkaChoice =
  | { readonly way: 'url'; readonly bootstrap: string }
  | { readonly way: 'jars'; readonly home: string }
  | { readonly way: 'container'; readonly image: string };

/** What the choice depends on. Probes are only called when the earlier ways are absent. */
export interface KafkaFacts {
  readonly url?: string | undefined;
  /** The installed release folder, or why there is none. */
  jars(): Promise<{ readonly home: string } | string>;
  /** true when a Docker engine answers, otherwise the reason it does not. */
  dockerEngine(): Promise<true | string>;
}

/**
 * A bootstrap list as clients take it, `host:port[,host:port]`, from what people write:
 * `127.0.0.1:9092`, `kafka://127.0.0.1:9092`, `PLAINTEXT://a:9092,PLAINTEXT://b:9092`.
 */
export function parseKafkaBootstrap(url: string): string {
  const entries = url
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', 'the Kafka bootstrap address is empty');
  }
  return entries
    .map((entry) => {
      const hostPort = entry.replace(/^[a-z][a-z0-9+._-]*:\/\//i, '').replace(/\/+$/, '');
      const match = /^(\[[0-9a-f:.]+\]|[^:/[\]\s]+):(\d{1,5})$/i.exec(hostPort);
      const port = Number(match?.[2]);
      if (match === null || port < 1 || port > 65535) {
        throw new IdemproofError(
          'IDEMPROOF_ERR_USAGE',
          `the Kafka bootstrap address '${entry}' is not host:port ` +
            `(expected e.g. 127.0.0.1:9092 or kafka://127.0.0.1:9092)`,
        );
      }
      return `${match[1] ?? ''}:${String(port)}`;
    })
    .join(',');
}

export async function chooseKafka(facts: KafkaFacts): Promise<KafkaChoice> {
  const url = facts.url?.trim();
  if (url) return { way: 'url', bootstrap: parseKafkaBootstrap(url) };
  const jars = await facts.jars();
  if (typeof jars !== 'string') return { way: 'jars', home: jars.home };
  const docker = await facts.dockerEngine();
  if (docker === true) return { way: 'container', image: KAFKA_IMAGE };
  throw new IdemproofError(
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    [
      'Kafka is not available. idemproof looks for it in three ways, in this order:',
      '  1. an existing broker: set IDEMPROOF_KAFKA_URL (or KAFKA_BOOTSTRAP) to its host:port;',
      `  2. the Apache Kafka jars run with java: ${jars};`,
      `  3. a Docker engine, where testcontainers starts ${KAFKA_IMAGE}: ${docker}.`,
    ].join('\n'),
  );
}
