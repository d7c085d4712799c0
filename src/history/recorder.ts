import { createWriteStream, type WriteStream } from 'node:fs';
import type { HistoryEvent } from './events.js';

type WithoutPosition<E> = E extends HistoryEvent ? Omit<E, 'index' | 'time'> : never;
/** An event as a stage hands it over; the recorder gives it its index and time. */
export type NewEvent = WithoutPosition<HistoryEvent>;

/**
 * Appends events to the run's history, in memory for the checkers and streamed to
 * `history.jsonl` as they happen, so a run cut short keeps everything recorded so far.
 *
 * Must not: reorder, change or drop events.
 */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly started = performance.now();
  private readonly stream: WriteStream | undefined;
  private streamError: Error | undefined;

  constructor(file?: string) {
    if (file !== undefined) {
      this.stream = createWriteStream(file, { flags: 'a' });
      this.stream.on('error', (error) => {
        this.streamError = error;
      });
    }
  }

  /** Milliseconds since the recorder was created (monotonic). */
  now(): number {
    return performance.now() - this.started;
  }

  append<E extends NewEvent>(event: E): E & { index: number; time: number } {
    const recorded = {
      ...event,
      index: this.events.length,
      time: Math.round(this.now() * 1000) / 1000,
    };
    this.events.push(recorded);
    this.stream?.write(`${JSON.stringify(recorded)}\n`);
    return recorded;
  }

  /** Flushes the file. Rejects if writing it failed at any point. */
  async close(): Promise<void> {
    const stream = this.stream;
    if (stream !== undefined) {
      await new Promise<void>((resolve) => stream.end(() => resolve()));
    }
    if (this.streamError !== undefined) throw this.streamError;
  }
}
