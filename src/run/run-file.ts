import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IdemproofError, describeError } from '../errors.js';
import type { HistoryEvent } from '../history/events.js';
import type { ConsumerScenario } from '../consumer/schema.js';
import type { Profile } from '../scenario/profile.js';
import type { Scenario } from '../scenario/schema.js';
import type { Shard } from './shard.js';

/**
 * `run.json`: what a run set out to do, written into its folder before any traffic (secrets
 * redacted). With `history.jsonl`, it is enough to rebuild every report of the run, even
 * when the run never got to write them (`idemproof report <run-dir>`).
 */
export const RUN_FILE = 'run.json';
export const HISTORY_FILE = 'history.jsonl';
export const RUN_FILE_VERSION = 1;

export interface RunFile {
  readonly schemaVersion: typeof RUN_FILE_VERSION;
  readonly runId: string;
  readonly startedAt: string;
  readonly seed: number;
  /** The short id that makes keys fresh and prefixes proxies. */
  readonly run: string;
  readonly paths: readonly string[];
  readonly target: string | null;
  readonly profile: string | null;
  /** The `--profile` profile as loaded (a file's fields, source, SHA-256); absent in old runs. */
  readonly resolvedProfile?: Profile | null;
  readonly reporters: readonly string[];
  /** The shard this run was (`--shard i/n`), or null for the whole plan. */
  readonly shard?: Shard | null;
  /** How many times the plan ran (`--repeat`); missing in older run files: 1. */
  readonly repeat?: number;
  readonly scenarios: readonly {
    readonly file: string;
    readonly scenario: Scenario;
    /** The profile file the scenario's `profile:` names, as loaded; absent for a built-in. */
    readonly profileFile?: Profile;
  }[];
  /** Consumer scenarios (after the API scenarios, numbered on from them); absent in old runs. */
  readonly consumers?: readonly {
    readonly file: string;
    readonly scenario: ConsumerScenario;
  }[];
}

export async function writeRunFile(reportDir: string, run: RunFile): Promise<void> {
  await writeFile(join(reportDir, RUN_FILE), `${JSON.stringify(run, null, 2)}\n`).catch(
    (error: unknown) => {
      throw new IdemproofError(
        'IDEMPROOF_ERR_REPORT',
        `cannot write ${join(reportDir, RUN_FILE)}: ${describeError(error)}`,
      );
    },
  );
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${file}: cannot read ${what} (${describeError(error)}); is this a run folder written by idemproof run?`,
    );
  }
}

export async function readRunFile(reportDir: string): Promise<RunFile> {
  const file = join(reportDir, RUN_FILE);
  const text = await readText(file, 'the run description');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', `${file}: not JSON (${describeError(error)})`);
  }
  const run = parsed as Partial<RunFile> | null;
  if (
    run === null ||
    typeof run !== 'object' ||
    run.schemaVersion !== RUN_FILE_VERSION ||
    typeof run.seed !== 'number' ||
    typeof run.run !== 'string' ||
    !Array.isArray(run.scenarios)
  ) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${file}: not a run description of version ${RUN_FILE_VERSION} (schemaVersion, seed, run and scenarios are required)`,
    );
  }
  return run as RunFile;
}

/**
 * The events of `history.jsonl`. A last line cut short (the process died mid-write) is
 * dropped with a warning; any other line that is not an event is an error naming it.
 */
export async function readHistory(
  reportDir: string,
  warn: (line: string) => void,
): Promise<HistoryEvent[]> {
  const file = join(reportDir, HISTORY_FILE);
  const lines = (await readText(file, 'the history')).split('\n');
  const events: HistoryEvent[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch (error) {
      const last = lines.slice(index + 1).every((rest) => rest.trim() === '');
      if (last) {
        warn(
          `${file}:${index + 1}: the last line is cut short (the run ended mid-write); left out`,
        );
        continue;
      }
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        `${file}:${index + 1}: not a JSON event (${describeError(error)})`,
      );
    }
    const candidate = event as Partial<HistoryEvent> | null;
    if (
      candidate === null ||
      typeof candidate !== 'object' ||
      typeof candidate.type !== 'string' ||
      typeof candidate.index !== 'number'
    ) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        `${file}:${index + 1}: not a history event (type and index are required)`,
      );
    }
    events.push(candidate as HistoryEvent);
  }
  return events;
}
