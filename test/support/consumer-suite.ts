import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { CONSUMER_SUITE } from '../../src/cli/demo-consumer.js';
import {
  startConsumerStack,
  type ConsumerStack,
  type DemoBroker,
} from '../../src/demo/consumer/stack.js';
import type { ConsumerFlaw } from '../../src/demo/consumer/types.js';
import type { HistoryEvent } from '../../src/history/events.js';
import { ToxiproxyApi } from '../../src/nemesis/toxiproxy-api.js';
import type { RunResult } from '../../src/run/result.js';
import { rebuildReports } from '../../src/run/rebuild.js';
import { runSuite } from '../../src/run/run.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * The built-in consumer scenario against the demo consumer behind a real broker: one broker,
 * PostgreSQL database and lane per test file, the consumer restarted with each flaw.
 */
export interface ConsumerSuite {
  readonly stack: ConsumerStack;
  /** Runs the built-in scenario, or the text `edit` makes of it, against the consumer with `flaw`. */
  run(
    flaw: ConsumerFlaw,
    edit?: (yaml: string) => string,
  ): Promise<{ result: RunResult; history: readonly HistoryEvent[] }>;
  stop(): Promise<void>;
}

export async function startConsumerSuite(broker: DemoBroker): Promise<ConsumerSuite> {
  const database: TestDatabase = await createTestDatabase(inject('databaseUrl'));
  const folder = await mkdtemp(join(tmpdir(), `idemproof-consumer-${broker}-`));
  const stack = await startConsumerStack({
    broker,
    databaseUrl: database.url,
    toxiproxyUrl: inject('toxiproxyUrl'),
  });
  let current: ConsumerFlaw = 'none';
  return {
    stack,
    async run(flaw, edit) {
      let path = join(CONSUMER_SUITE, `${broker}.yaml`);
      if (edit !== undefined) {
        path = join(folder, `edited-${broker}.yaml`);
        await writeFile(path, edit(await readFile(join(CONSUMER_SUITE, `${broker}.yaml`), 'utf8')));
      }
      if (flaw !== current) {
        await stack.restartConsumer(flaw);
        current = flaw;
      }
      const saved = { ...process.env };
      Object.assign(process.env, stack.env);
      try {
        return await runSuite({
          paths: [path],
          toxiproxyUrl: inject('toxiproxyUrl'),
          reportDir: join(folder, 'reports'),
          reporters: ['json'],
          seed: 11,
          out: () => undefined,
          err: () => undefined,
          interactive: false,
        });
      } finally {
        process.env = saved;
      }
    },
    async stop() {
      await stack.stop();
      await database.drop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** "checker: pattern kind (anomaly kind)" for every anomaly of a run, deduplicated and sorted. */
export function violations(result: RunResult, history: readonly HistoryEvent[]): string[] {
  const kindOf = new Map<number, string>();
  for (const event of history)
    if (event.type === 'probe') kindOf.set(event.index, event.patternKind);
  const found = new Set<string>();
  for (const scenario of result.scenarios)
    for (const check of scenario.checks)
      for (const anomaly of check.anomalies)
        found.add(
          `${check.checker}: ${kindOf.get(anomaly.events[0] ?? -1) ?? '?'} (${anomaly.kind})`,
        );
  return [...found].sort();
}

/** Proxies and toxics the run left on Toxiproxy: none of its own, the stack's lane clean. */
export async function leftOnToxiproxy(result: RunResult, stack: ConsumerStack) {
  const proxies = await new ToxiproxyApi(inject('toxiproxyUrl')).listProxies();
  const lane = proxies.find((proxy) => proxy.name === stack.lane.name);
  return {
    ofRun: proxies
      .filter((proxy) => proxy.name.startsWith(result.proxyPrefix))
      .map((proxy) => proxy.name),
    lane: lane && { enabled: lane.enabled, toxics: lane.toxics.map((toxic) => toxic.name) },
  };
}

/** A flaw of the demo consumer and the violations that must name it. */
export interface FlawCase {
  readonly flaw: ConsumerFlaw;
  readonly title: string;
  /** Exactly these violations, or (with `includes`) at least these. */
  readonly violations: readonly string[];
  readonly includes?: boolean;
}

/** The flaws both brokers' demo consumers have, and what must name them. */
export const COMMON_FLAW_CASES: readonly FlawCase[] = [
  {
    flaw: 'no-inbox',
    title: 'every duplicate is processed, also the redelivery and the dead-letter replay',
    violations: [
      'duplicateAfterRetention: after-retention (retention-behaviour)',
      'effectsPerMessage: concurrent-duplicates (duplicate-effect)',
      'effectsPerMessage: dlq-replay (duplicate-effect)',
      'effectsPerMessage: duplicate-delivery (duplicate-effect)',
      'effectsPerMessage: redelivery (duplicate-effect)',
    ],
  },
  {
    flaw: 'inbox-after-effect',
    title: 'the redelivered message runs its effect again',
    violations: [
      'effectsPerMessage: duplicate-delivery (duplicate-effect)',
      'effectsPerMessage: redelivery (duplicate-effect)',
    ],
    includes: true,
  },
  {
    flaw: 'inbox-outside-transaction',
    title: 'two copies at once on two consumer instances both run',
    violations: ['effectsPerMessage: concurrent-duplicates (duplicate-effect)'],
    includes: true,
  },
  {
    flaw: 'last-write-wins',
    title: 'shuffled versions leave an older state',
    violations: ['finalStateUnderShuffle: shuffled-versions (wrong-final-state)'],
  },
];

/** A run waits for effects that never come under some flaws (up to 10 s per pattern). */
const TEST_TIMEOUT_MS = 180_000;

/**
 * The tests of scenarios/consumers/<broker>.yaml: the correct consumer holds under every
 * pattern (and the broker really redelivered), then each flaw is caught by what names it.
 */
export function describeConsumerSuite(
  broker: DemoBroker,
  flaws: readonly FlawCase[],
): () => ConsumerSuite {
  let suite: ConsumerSuite;
  beforeAll(async () => {
    suite = await startConsumerSuite(broker);
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    await suite.stop();
  });

  it(
    'the correct consumer holds every check under every pattern, and the broker really redelivered',
    async () => {
      const { result, history } = await suite.run('none');
      const scenario = result.scenarios[0];
      expect(scenario?.error).toBeNull();
      expect(violations(result, history)).toEqual([]);
      expect(scenario?.valid).toBe(true);
      const checked = Object.fromEntries(
        scenario?.checks.map((check) => [check.checker, check.checked]) ?? [],
      );
      expect(checked.effectsPerMessage).toBeGreaterThanOrEqual(15);
      expect(checked.noMessageLost).toBeGreaterThanOrEqual(15);
      expect(checked.finalStateUnderShuffle).toBe(1);
      expect(checked.poisonDeadLettered).toBe(1);
      expect(checked.duplicateAfterRetention).toBe(1);
      const kinds = history.flatMap((event) =>
        event.type === 'publish' ? [event.patternKind] : [],
      );
      expect(new Set(kinds)).toEqual(
        new Set([
          'duplicate-delivery',
          'concurrent-duplicates',
          'shuffled-versions',
          'poison-message',
          'dlq-replay',
          'redelivery',
          'stream',
          'after-retention',
        ]),
      );
      // The redelivery pattern's message: published once, delivered twice (the ack was cut).
      const redelivered = history.find(
        (event) => event.type === 'publish' && event.patternKind === 'redelivery',
      );
      expect(
        redelivered?.type === 'publish' && suite.stack.consumer.deliveries(redelivered.key),
      ).toBeGreaterThanOrEqual(2);
      const faults = history.flatMap((event) =>
        event.type === 'dependency-fault' ? [event.fault] : [],
      );
      expect(faults).toEqual(['latency', 'cut']);
      expect(await leftOnToxiproxy(result, suite.stack)).toEqual({
        ofRun: [],
        lane: { enabled: true, toxics: [] },
      });
    },
    TEST_TIMEOUT_MS,
  );

  for (const { flaw, title, violations: expected, includes } of flaws) {
    it(
      `${flaw}: ${title}`,
      async () => {
        const { result, history } = await suite.run(flaw);
        const found = violations(result, history);
        if (includes === true) expect(found).toEqual(expect.arrayContaining([...expected]));
        else expect(found).toEqual([...expected]);
        // `idemproof report <dir>` rebuilds the same verdict from run.json and the history.
        const rebuilt = await rebuildReports({
          reportDir: result.reportDir,
          reporters: ['json'],
          out: () => undefined,
          err: () => undefined,
          interactive: false,
        });
        expect(rebuilt.result.valid).toBe(false);
        expect(violations(rebuilt.result, rebuilt.history)).toEqual(found);
      },
      TEST_TIMEOUT_MS,
    );
  }
  return () => suite;
}
