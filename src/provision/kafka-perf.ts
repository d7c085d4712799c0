import { IdemproofError } from '../errors.js';
import { spawnManaged } from './child-process.js';
import { findInstalledKafka, findJava } from './kafka-install.js';
import { kafkaJavaArgs } from './kafka.js';

const PERF_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * The records per second of ProducerPerformance's closing summary, the last line of the form
 * `N records sent, X records/sec (...)` (the lines before it are 5-second windows).
 */
export function parseProducerPerf(output: string): number | undefined {
  const summaries = [...output.matchAll(/(\d+) records sent, ([\d.]+) records\/sec/g)];
  const last = summaries.at(-1);
  return last === undefined ? undefined : Number(last[2]);
}

/**
 * Runs Kafka's own `org.apache.kafka.tools.ProducerPerformance` from the installed jars
 * against `bootstrap` as fast as it can (`--throughput -1`), for the benchmark. Bounded by
 * five minutes.
 *
 * Must not: run longer than its bound, or leave the JVM running when it fails.
 */
export async function runProducerPerf(options: {
  bootstrap: string;
  topic: string;
  records: number;
  recordSize: number;
  /** More producer properties, e.g. ['acks=all', 'enable.idempotence=true']. */
  producerProps?: readonly string[];
  env?: NodeJS.ProcessEnv;
}): Promise<{ recordsPerSec: number; raw: string }> {
  const env = options.env ?? process.env;
  const installed = await findInstalledKafka(env);
  if (typeof installed === 'string') {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `cannot run Kafka's ProducerPerformance: ${installed}.`,
    );
  }
  const java = await findJava(env);
  const args = kafkaJavaArgs(installed.home, 'org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    options.topic,
    '--num-records',
    String(options.records),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${options.bootstrap}`,
    ...(options.producerProps ?? []),
  ]);
  const child = spawnManaged('kafka ProducerPerformance', java, args, { env });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void child.stop('SIGKILL');
  }, PERF_TIMEOUT_MS);
  const code = await child.exited.finally(() => clearTimeout(timer));
  await child.stop();
  const raw = child.output();
  const recordsPerSec = parseProducerPerf(raw);
  if (code !== 0 || recordsPerSec === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `Kafka's ProducerPerformance against ${options.bootstrap} ` +
        (timedOut
          ? `did not finish within ${String(PERF_TIMEOUT_MS / 1000)} s`
          : `failed (exit ${String(code)})`) +
        `:\n${raw.trim()}`,
    );
  }
  return { recordsPerSec, raw };
}
