import { describeError } from '../errors.js';
import { onStopRequest } from '../provision/cleanup.js';

/**
 * The traffic gate: every request idemproof sends to a target passes through it. It enforces
 * the blast-radius limits (a request rate, a total number of requests, a maximum duration)
 * and is how a run stops early: on Ctrl-C, on a crash, or at a limit, the gate closes, its
 * signal aborts what is in flight, and no further request is admitted.
 *
 * Must not: admit a request after it has closed, or let the average rate exceed the cap.
 */

export interface TrafficLimits {
  /** Requests per second, averaged: starts are spaced 1/maxRps apart. */
  readonly maxRps?: number | undefined;
  /** Requests in all; the run stops before the one that would exceed it. */
  readonly maxRequests?: number | undefined;
  /** Milliseconds from the gate's creation; the run stops when it passes. */
  readonly maxDurationMs?: number | undefined;
}

/** Why a run stopped before its plan was done. */
export type StopReason =
  | { readonly kind: 'interrupted'; readonly signal: string; readonly detail: string }
  | { readonly kind: 'crashed'; readonly detail: string }
  | {
      readonly kind: 'limit';
      readonly limit: 'max-requests' | 'max-duration' | 'max-report-size';
      readonly detail: string;
    };

export class TrafficGate {
  private readonly controller = new AbortController();
  private reason: StopReason | undefined;
  private nextStart = 0;
  private admitted = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Pauses in progress, woken when the gate closes: one abort listener for all of them. */
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly limits: TrafficLimits = {},
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.controller.signal.addEventListener(
      'abort',
      () => {
        for (const wake of this.sleepers) wake();
        this.sleepers.clear();
      },
      { once: true },
    );
    if (limits.maxDurationMs !== undefined) {
      const maxDurationMs = limits.maxDurationMs;
      this.timer = setTimeout(
        () =>
          this.stop({
            kind: 'limit',
            limit: 'max-duration',
            detail: `the run reached --max-duration ${formatMs(maxDurationMs)}`,
          }),
        maxDurationMs,
      );
      this.timer.unref();
    }
  }

  /** Aborted when the gate closes: pass it to anything that waits (requests, pauses). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the gate closed, or undefined while it is open. */
  get stopped(): StopReason | undefined {
    return this.reason;
  }

  /** Requests admitted so far. */
  get requests(): number {
    return this.admitted;
  }

  /** Closes the gate; the first reason given is the one kept. */
  stop(reason: StopReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.controller.abort(new Error(reason.detail));
  }

  /** Releases the duration timer once the run is over. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /**
   * Waits until `count` requests may start together (a burst takes as many slots as it has
   * requests). Resolves false, admitting nothing, when the gate is or becomes closed.
   */
  async admit(count = 1): Promise<boolean> {
    if (this.reason !== undefined) return false;
    const { maxRequests, maxRps } = this.limits;
    if (maxRequests !== undefined && this.admitted + count > maxRequests) {
      this.stop({
        kind: 'limit',
        limit: 'max-requests',
        detail: `the run reached --max-requests ${maxRequests} after ${this.admitted} requests`,
      });
      return false;
    }
    this.admitted += count;
    if (maxRps === undefined) return true;
    const interval = 1000 / maxRps;
    const now = this.clock();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + count * interval;
    if (start > now && !(await this.sleep(start - now))) {
      this.admitted -= count;
      return false;
    }
    return this.reason === undefined;
  }

  /** Waits `ms` unless the gate closes first; resolves whether the full time passed. */
  sleep(ms: number): Promise<boolean> {
    if (this.reason !== undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.sleepers.delete(wake);
        resolve(true);
      }, ms);
      this.sleepers.add(wake);
    });
  }
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * The gate a run or an exploration sends through: closed by Ctrl-C, SIGTERM or a crash (the
 * first stop request), so the run stops sending and reports what it recorded. `release`
 * stops listening and clears the duration timer.
 */
export function openGate(limits: TrafficLimits = {}): {
  readonly gate: TrafficGate;
  readonly release: () => void;
} {
  const gate = new TrafficGate(limits);
  const stopListening = onStopRequest((request) =>
    gate.stop(
      request.kind === 'signal'
        ? {
            kind: 'interrupted',
            signal: request.signal,
            detail: `interrupted by ${request.signal}`,
          }
        : { kind: 'crashed', detail: `idemproof failed: ${describeError(request.error)}` },
    ),
  );
  return {
    gate,
    release: () => {
      stopListening();
      gate.close();
    },
  };
}

/** One line for the start of a run: the limits in force. */
export function describeLimits(limits: TrafficLimits): string {
  const parts = [
    limits.maxRps === undefined ? 'no rate cap' : `at most ${limits.maxRps} requests/s`,
    limits.maxRequests === undefined ? 'no request cap' : `at most ${limits.maxRequests} requests`,
    limits.maxDurationMs === undefined
      ? 'no time limit'
      : `stopping after ${formatMs(limits.maxDurationMs)}`,
  ];
  return `limits: ${parts.join(', ')}`;
}
