import { closeSync, openSync, writeSync } from 'node:fs';
import type { HistoryEvent } from './events.js';
import type { EventParts } from './event-parts.js';
import { Interner } from './intern.js';
import { registerCleanup } from '../provision/cleanup.js';
import { Redactor } from './redact.js';
import { REQUEST_BODY_RECORD_LIMIT, boundRequestBody } from './request-body.js';

type WithoutPosition<E> = E extends HistoryEvent ? Omit<E, 'index' | 'time'> : never;
/** An event as a stage hands it over; the recorder gives it its index and time. */
export type NewEvent = WithoutPosition<HistoryEvent>;

/** Lines waiting past this size are written at once rather than at the end of the turn. */
const FLUSH_BYTES = 256 * 1024;

/** The default budget of history.jsonl, the part of a run folder that grows with the run. */
export const HISTORY_BUDGET_BYTES = 256 * 1024 ** 2;
/**
 * Past the budget (the run has been told to stop), events still to come (attempts in flight,
 * heals, probes) keep this much of each body, so finishing the run cannot blow the budget.
 */
const BODY_BYTES_PAST_BUDGET = 4096;

export interface RecorderOptions {
  /** Keeps secrets out of every recorded event (and so out of every report). */
  readonly redactor?: Redactor | undefined;
  /** Bytes of each request body kept (default 256 KiB); the digest covers all of it. */
  readonly requestBodyLimit?: number | undefined;
  /**
   * Bytes history.jsonl may take (default HISTORY_BUDGET_BYTES). When 90 % is written,
   * `onBudget` is called once (the run stops as at a limit), and later events keep only the
   * start of their bodies.
   */
  readonly budgetBytes?: number | undefined;
  readonly onBudget?: ((detail: string) => void) | undefined;
}

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
  private writtenBytes = 0;
  private requestBodyLimit: number;
  private readonly budgetBytes: number;
  private pastBudget = false;

  constructor(
    file?: string,
    private readonly options: RecorderOptions = {},
  ) {
    this.redactor = options.redactor ?? new Redactor();
    this.requestBodyLimit = options.requestBodyLimit ?? REQUEST_BODY_RECORD_LIMIT;
    this.budgetBytes = options.budgetBytes ?? HISTORY_BUDGET_BYTES;
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
    const position = { index: this.events.length, time: Math.round(this.now() * 1000) / 1000 };
    const build = (): E & { index: number; time: number } =>
      Object.assign(
        {},
        redacted,
        this.interner.parts(redacted),
        this.bounded(event, redacted),
        position,
      ) as E & { index: number; time: number };
    let recorded = build();
    if (this.fd !== undefined) {
      let line = `${JSON.stringify(recorded)}\n`;
      if (this.reachesBudget(Buffer.byteLength(line))) {
        // The event that reaches the budget is the first one kept short.
        recorded = build();
        line = `${JSON.stringify(recorded)}\n`;
      }
      this.writtenBytes += Buffer.byteLength(line);
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
    this.events.push(recorded);
    return recorded;
  }

  /** A request's body cut to the limit, and past the budget every body cut short. */
  private bounded(sent: NewEvent, redacted: NewEvent): Partial<EventParts> {
    if (redacted.type === 'invoke' && sent.type === 'invoke') {
      return { request: boundRequestBody(redacted.request, sent.request, this.requestBodyLimit) };
    }
    if (this.pastBudget && redacted.type === 'ok' && redacted.response.body.length > 0) {
      const { response } = redacted;
      const body = Buffer.from(response.body, 'utf8');
      if (body.length <= BODY_BYTES_PAST_BUDGET) return {};
      const kept = body.subarray(0, BODY_BYTES_PAST_BUDGET).toString('utf8');
      return { response: { ...response, body: kept, bodyTruncated: true } };
    }
    return {};
  }

  /**
   * Whether writing `bytes` more reaches 90 % of the budget for the first time: then the
   * run is asked to stop, and this event and every later one keep their bodies short.
   */
  private reachesBudget(bytes: number): boolean {
    if (this.pastBudget || this.writtenBytes + bytes < this.budgetBytes * 0.9) return false;
    this.pastBudget = true;
    this.requestBodyLimit = Math.min(this.requestBodyLimit, BODY_BYTES_PAST_BUDGET);
    this.options.onBudget?.(
      `the history reached ${formatMiB(this.writtenBytes)} of its ${formatMiB(this.budgetBytes)} budget (--max-report-size)`,
    );
    return true;
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

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
