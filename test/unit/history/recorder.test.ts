import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../../src/history/recorder.js';

const lane = (index: number) =>
  ({ type: 'fault', scenario: 's', lane: `lane-${index}`, toxics: 'none' }) as const;

async function lines(file: string): Promise<unknown[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

describe('HistoryRecorder', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-recorder-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('numbers events and writes every one, in order, by the end of the turn', async () => {
    const file = join(folder, 'history.jsonl');
    const recorder = new HistoryRecorder(file);
    for (let index = 0; index < 100; index += 1) recorder.append(lane(index));
    expect(readFileSync(file, 'utf8')).toBe('');
    await new Promise((resolve) => setImmediate(resolve));
    const written = await lines(file);
    expect(written).toEqual(recorder.events);
    expect(recorder.events.map((event) => event.index)).toEqual([...Array(100).keys()]);
    await recorder.close();
  });

  it('writes at once when asked (exit and crash handlers), and past a size without waiting', async () => {
    const file = join(folder, 'history.jsonl');
    const recorder = new HistoryRecorder(file);
    recorder.append(lane(0));
    recorder.flushSync();
    expect(await lines(file)).toHaveLength(1);
    const large = {
      type: 'fault',
      scenario: 's',
      lane: 'x'.repeat(64 * 1024),
      toxics: '',
    } as const;
    for (let index = 0; index < 5; index += 1) recorder.append(large);
    expect((await lines(file)).length).toBeGreaterThanOrEqual(4);
    await recorder.close();
    expect(await lines(file)).toHaveLength(6);
  });

  it('reports a file it could not write when closed, and keeps every event in memory', async () => {
    // /dev/full opens, and every write to it fails with ENOSPC.
    const recorder = new HistoryRecorder('/dev/full');
    recorder.append(lane(0));
    recorder.flushSync();
    recorder.append(lane(1));
    await expect(recorder.close()).rejects.toThrow(/ENOSPC/);
    expect(recorder.events.map((event) => event.index)).toEqual([0, 1]);
  });
});
