import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsumerScenarioFile, loadSuiteFiles } from '../../../src/consumer/load.js';
import { loadScenarioFile } from '../../../src/scenario/load.js';

const GOOD = `name: orders consumer
consumer:
  broker: rabbitmq
  queue: orders
message:
  payload: { entity: '{{resource}}' }
effects:
  sql: { url: 'postgres://127.0.0.1/x', query: 'select 1' }
patterns:
  - kind: duplicate-delivery
`;

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'idemproof-consumer-load-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, text);
  return path;
}

async function errorOf(path: string): Promise<string> {
  return loadConsumerScenarioFile(path).then(
    () => 'loaded',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

describe('consumer scenario files', () => {
  it('load with their defaults, and beside API scenarios in one folder', async () => {
    const path = await write('good.yaml', GOOD);
    const loaded = await loadConsumerScenarioFile(path);
    expect(loaded.scenario.message.id).toEqual({
      template: 'msg-{{run}}-{{n}}',
      in: { header: 'message-id' },
    });
    expect(loaded.scenario.consumer).toMatchObject({ broker: 'rabbitmq', exchange: '' });
    const suite = await loadSuiteFiles([folder]);
    expect(suite.consumers.map(({ scenario }) => scenario.name)).toEqual(['orders consumer']);
  });

  it('name file, line and path of a wrong value, and the rules that span fields', async () => {
    expect(
      await errorOf(await write('kind.yaml', GOOD.replace('broker: rabbitmq', 'broker: sqs'))),
    ).toMatch(/^invalid consumer scenario:\n {2}\S*kind\.yaml:3:\d+ at consumer\.broker: /);
    const redelivery = GOOD.replace(
      '  - kind: duplicate-delivery',
      '  - kind: redelivery\n    dependency: broker',
    );
    expect(await errorOf(await write('lane.yaml', redelivery))).toContain(
      "at patterns[0].dependency: unknown dependency 'broker'",
    );
    const shuffled = GOOD.replace('  - kind: duplicate-delivery', '  - kind: shuffled-versions');
    expect(await errorOf(await write('state.yaml', shuffled))).toContain('add a state probe');
    const replay = GOOD.replace('  - kind: duplicate-delivery', '  - kind: dlq-replay');
    expect(await errorOf(await write('dlq.yaml', replay))).toContain('consumer.deadLetterQueue');
    const template = GOOD.replace("'{{resource}}'", "'{{tenantt}}'");
    expect(await errorOf(await write('template.yaml', template))).toContain(
      'unknown template variable {{tenantt}}',
    );
  });

  it('are refused by commands that test HTTP APIs, with a clear word', async () => {
    const path = await write('refused.yaml', GOOD);
    await expect(loadScenarioFile(path)).rejects.toThrow(
      /refused\.yaml: a consumer scenario \(it names consumer:\): idemproof run and validate take it/,
    );
  });
});
