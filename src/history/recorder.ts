import { closeSync, openSync, writeSync } from 'node:fs';
import type { HistoryEvent } from './events.js';
import { Interner } from './intern.js';
import { registerCleanup } from '../provision/cleanup.js';
import { Redactor } from './redact.js';

type WithoutPosition<E> = E extends HistoryEvent ? Omit<E, 'index' | 'time'> : never;
/** An event as a stage hands it over; the recorder gives it its index and time. */
export type NewEvent = WithoutPosition<HistoryEvent>;

/** Lines waiting past this size are written at once rather than at the end of the turn. */
const FLUSH_BYTES = 256 * 1024;

/**
 * Appends events to the run's history, in memory for the checkers and streamed to
 * `history.jsonl` as they happen, so a run cut short keeps everything recorded so far.
 *
 * The lines of one event-loop turn are written together, synchronously and in order, when
 * the turn ends (or sooner past FLUSH_BYTES): one write per turn instead of one per event,
 * and nothing recorded is more than one turn away from the file. `flushSync` writes what is
 * waiting at once, for exit and crash handlers.
 *
 * Must not: reorder, change or drop events.
 */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly started = performance.now();
  private fd: number | undefined;
  private waiting: string[] = [];
  private waitingBytes = 0;
  private flushScheduled = false;
  private writeError: Error | undefined;
  /** Shares equal headers, bodies and messages between events (most of a long run's memory). */
  private readonly interner = new Interner();

  /** Keeps secrets out of every recorded event (and so out of every report). */
  readonly redactor: Redactor;

  private unregister: (() => void) | undefined;

  constructor(file?: string, options: { readonly redactor?: Redactor } = {}) {
    this.redactor = options.redactor ?? new Redactor();
    if (file !== undefined) {
      this.fd = openSync(file, 'a');
      // Even when the process exits at once (a second Ctrl-C), what was recorded is written.
      this.unregister = registerCleanup({
        name: `history ${file}`,
        run: () => this.close(),
        onExit: () => this.flushSync(),
      });
    }
  }

  /** Milliseconds since the recorder was created (monotonic). */
  now(): number {
    return performance.now() - this.started;
  }

  append<E extends NewEvent>(event: E): E & { index: number; time: number } {
    // Object.assign onto a fresh object, not a spread literal: V8 then gives events of one
    // kind one hidden class, where spreads of differently built objects gave each its own.
    const redacted = Object.assign({}, event, this.redactor.parts(event)) as E;
    const recorded = Object.assign({}, redacted, this.interner.parts(redacted), {
      index: this.events.length,
      time: Math.round(this.now() * 1000) / 1000,
    });
    this.events.push(recorded);
    if (this.fd !== undefined) {
      const line = `${JSON.stringify(recorded)}\n`;
      this.waiting.push(line);
      this.waitingBytes += line.length;
      if (this.waitingBytes >= FLUSH_BYTES) this.flushSync();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flushSync();
        });
      }
    }
    return recorded;
  }

  /** Writes every waiting line now. A failed write is kept and reported by `close`. */
  flushSync(): void {
    if (this.fd === undefined || this.waiting.length === 0) return;
    const text = this.waiting.join('');
    this.waiting = [];
    this.waitingBytes = 0;
    if (this.writeError !== undefined) return;
    try {
      const bytes = Buffer.from(text, 'utf8');
      let written = 0;
      while (written < bytes.length) {
        written += writeSync(this.fd, bytes, written, bytes.length - written);
      }
    } catch (error) {
      this.writeError = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Flushes and closes the file. Rejects if writing it failed at any point. */
  close(): Promise<void> {
    this.unregister?.();
    this.unregister = undefined;
    this.flushSync();
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch (error) {
        this.writeError ??= error instanceof Error ? error : new Error(String(error));
      }
    }
    return this.writeError === undefined ? Promise.resolve() : Promise.reject(this.writeError);
  }
}
