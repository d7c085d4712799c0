import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonReporter, RESULTS_JSON_FILE } from '../../../src/report/json.js';
import { resultsJson } from '../../../src/report/results-json.js';
import { testContext, type TestContext } from './context.js';
import { buildFixture } from './fixture.js';

describe('results.json', () => {
  let test: TestContext;
  beforeEach(() => {
    test = testContext();
  });
  afterEach(() => test.remove());

  it('parses back to the same object, 2-space indented', async () => {
    const { result, history } = buildFixture();
    const files = await jsonReporter(test.context).onEnd(result, history);
    expect(files).toEqual([`${test.context.reportDir}/${RESULTS_JSON_FILE}`]);
    const text = readFileSync(files[0] ?? '', 'utf8');
    expect(JSON.parse(text)).toEqual(result);
    expect(text.split('\n')[1]).toBe('  "schemaVersion": 1,');
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('keeps the key order of the type, whatever order the object was built in', () => {
    const { result } = buildFixture();
    const shuffled = Object.fromEntries(Object.entries(result).reverse()) as typeof result;
    const parsed = JSON.parse(resultsJson(shuffled)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      'schemaVersion',
      'tool',
      'runId',
      'startedAt',
      'durationMs',
      'seed',
      'replayCommand',
      'reportDir',
      'proxyPrefix',
      'valid',
      'counts',
      'lanes',
      'stopped',
      'scenarios',
    ]);
    const scenario = (parsed.scenarios as Record<string, unknown>[])[1] ?? {};
    expect(Object.keys(scenario)).toEqual([
      'name',
      'file',
      'target',
      'profile',
      'valid',
      'patterns',
      'checks',
      'attempts',
      'latency',
      'durationMs',
      'error',
    ]);
    const check = (scenario.checks as Record<string, unknown>[])[0] ?? {};
    expect(Object.keys(check)).toEqual(['checker', 'valid', 'checked', 'anomalies', 'notes']);
    const anomaly = (check.anomalies as Record<string, unknown>[])[0] ?? {};
    expect(Object.keys(anomaly)).toEqual([
      'kind',
      'key',
      'tenant',
      'events',
      'expected',
      'actual',
      'message',
      'curl',
    ]);
  });
});
