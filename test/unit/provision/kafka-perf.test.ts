import { describe, expect, it } from 'vitest';
import { parseProducerPerf } from '../../../src/provision/kafka-perf.js';

describe("reading Kafka's ProducerPerformance output", () => {
  it('takes the closing summary, not the 5-second windows before it', () => {
    const output = [
      '120000 records sent, 23990.4 records/sec (2.29 MB/sec), 900.1 ms avg latency, 1200.0 ms max latency.',
      '[2026-12-03 18:47:25,501] WARN some broker warning (org.apache.kafka.clients.NetworkClient)',
      '200000 records sent, 31250.0 records/sec (2.98 MB/sec), 800.20 ms avg latency, 1300.00 ms max latency, 57 ms 50th, 69 ms 95th, 71 ms 99th, 76 ms 99.9th.',
    ].join('\n');
    expect(parseProducerPerf(output)).toBe(31250);
  });

  it('finds nothing in output without a summary', () => {
    expect(
      parseProducerPerf('Exception in thread "main" org.apache.kafka.common.KafkaException'),
    ).toBe(undefined);
  });
});
