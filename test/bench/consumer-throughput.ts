/**
 * Benchmark: messages per second idemproof publishes to Kafka with full history recording (a
 * consumer scenario's `stream` pattern: acks=all, idempotent producer, one publish event per
 * message written to history.jsonl), against Kafka's own ProducerPerformance tool with the same
 * guarantees in the same run (target ≥ 0.5×). The bad baseline: the same messages one publish
 * at a time, each awaiting its acks, which is what a naive harness does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { installKafka } from '../../src/provision/kafka-install.js';
import { runProducerPerf } from '../../src/provision/kafka-perf.js';
import { startKafka } from '../../src/provision/kafka.js';
import { runSuite } from '../../src/run/run.js';
import { describeSamples, markdownTable, type Benchmark } from './section.js';

const RECORD_BYTES = 1024;

export const consumerThroughput: Benchmark = async ({ tiny, log }) => {
  const records = tiny ? 300 : 100_000;
  const naiveRecords = tiny ? 50 : 2_000;
  const runs = tiny ? 1 : 3;
  await installKafka({ log });
  const broker = await startKafka();
  const folder = await mkdtemp(join(tmpdir(), 'idemproof-bench-consumer-'));
  const samples: { contender: string; run: number; messages: number; perSecond: number }[] = [];
  try {
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: ['bench', 'bench-perf'].map((topic) => ({ topic, numPartitions: 2 })),
      waitForLeaders: true,
    });
    await admin.disconnect();
    const scenario = async (count: number, batch: number): Promise<string> => {
      const file = join(folder, `stream-${count}-${batch}.yaml`);
      await writeFile(
        file,
        [
          `name: stream ${count} by ${batch}`,
          `consumer: { broker: kafka, bootstrap: '${broker.bootstrap}', topic: bench }`,
          'message:',
          '  headers: { type: order.created }',
          `  payload: { entity: '{{resource}}', amount: { $int: [1, 500] }, filler: '${'x'.repeat(RECORD_BYTES - 120)}' }`,
          // Nobody consumes: the effects are not waited for, only read once.
          'effects: { sink: { countBy: key } }',
          'effectTimeoutMs: 0',
          'settleMs: 0',
          `patterns: [{ kind: stream, count: ${count}, batch: ${batch} }]`,
          '',
        ].join('\n'),
      );
      return file;
    };
    const measure = async (contender: string, count: number, batch: number, run: number) => {
      const { history } = await runSuite({
        paths: [await scenario(count, batch)],
        reportDir: join(folder, 'reports'),
        reporters: ['json'],
        out: () => undefined,
        err: () => undefined,
        interactive: false,
      });
      const publishes = history.filter((event) => event.type === 'publish');
      const first = publishes[0];
      const last = publishes.at(-1);
      if (first === undefined || last === undefined || publishes.some((event) => !event.ok))
        throw new Error(`${contender}: ${publishes.length} publishes, not all confirmed`);
      const seconds = (last.time - (first.time - first.durationMs)) / 1000;
      samples.push({
        contender,
        run,
        messages: publishes.length,
        perSecond: Math.round(publishes.length / seconds),
      });
      log(`consumer-throughput: ${contender} run ${run}: ${samples.at(-1)?.perSecond} messages/s`);
    };
    for (let run = 1; run <= runs; run += 1) {
      const perf = await runProducerPerf({
        bootstrap: broker.bootstrap,
        topic: 'bench-perf',
        records,
        recordSize: RECORD_BYTES,
        producerProps: ['acks=all', 'enable.idempotence=true'],
      });
      samples.push({
        contender: 'kafka ProducerPerformance',
        run,
        messages: records,
        perSecond: Math.round(perf.recordsPerSec),
      });
      log(
        `consumer-throughput: ProducerPerformance run ${run}: ${Math.round(perf.recordsPerSec)} records/s`,
      );
      await measure('idemproof stream (batches of 500)', records, 500, run);
    }
    await measure('idemproof, one publish at a time', naiveRecords, 1, 1);
  } finally {
    await broker.stop();
    await rm(folder, { recursive: true, force: true });
  }
  const median = (contender: string): number =>
    describeSamples(
      samples.filter((sample) => sample.contender === contender).map((sample) => sample.perSecond),
    ).median;
  const tool = median('kafka ProducerPerformance');
  const ours = median('idemproof stream (batches of 500)');
  const naive = median('idemproof, one publish at a time');
  const ratio = tool === 0 ? 0 : ours / tool;
  return {
    name: 'consumer-throughput',
    target:
      'messages/s published to Kafka with full history recording ≥ 0.5× Kafka ProducerPerformance on this machine',
    met: tiny ? null : ratio >= 0.5,
    figures: {
      records,
      recordBytes: RECORD_BYTES,
      ratio,
      naiveRatio: tool === 0 ? 0 : naive / tool,
      samples,
    },
    limits: `${records} records of ${RECORD_BYTES} bytes, acks=all and an idempotent producer on both sides, one Kafka 4.1 broker (KRaft, 2 partitions) on the same 2-core machine; idemproof's rate runs from its first publish to its last confirmed one and includes writing one history event per message to disk.`,
    table: markdownTable(
      ['contender', 'median messages/s', '× ProducerPerformance'],
      [
        ['kafka ProducerPerformance', tool, '1.00'],
        ['idemproof stream (batches of 500)', ours, ratio.toFixed(2)],
        ['idemproof, one publish at a time', naive, (tool === 0 ? 0 : naive / tool).toFixed(2)],
      ],
    ),
  };
};
