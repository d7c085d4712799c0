/**
 * The settle pause of a last-byte burst: how long to wait, once every request of the burst is
 * sent but its last byte, before the last bytes go out. The target must have taken in every
 * request's headers by then (and done whatever it does on headers, such as authentication),
 * or the requests it is still working through complete late and the burst spreads out.
 *
 * 'auto' sizes the pause from what the client has seen of the target: its service time, the
 * fastest any request of an earlier burst was answered once released (one round trip plus
 * the target's own work), a bound on the work a request's headers can cost. A target may take
 * in the heads one after another (one process, or a burst landing on one worker), so the pause
 * covers the burst size times that time, above the floors (new connections must be accepted
 * first). Header work beyond HEAD_WORK_CEILING_MS a request is rare, while a slow answer
 * (a database, a lock, a distant target) says nothing of it, so the service time counts up to
 * that ceiling: the pause stays short on fast targets and bounded on slow ones, and never
 * exceeds SETTLE_CAP_MS. Before any burst to a target was seen, ASSUMED_SERVICE_MS stands in;
 * a target whose headers cost more is given a fixed `releasePauseMs`.
 *
 * Must not: measure anything itself (burst.ts reports its observations), go below the floors
 * or above the cap in 'auto', or keep unbounded memory (SettleMemory keeps MAX_ORIGINS).
 */

/** A burst's settle setting: a fixed pause in ms, or 'auto'. */
export type ReleasePause = number | 'auto';

/** The least pause when the burst opens new connections: they must be accepted first. */
export const NEW_CONNECTION_FLOOR_MS = 10;
/** The least pause when every request reuses a kept-alive connection. */
export const REUSED_FLOOR_MS = 2;
/** The most 'auto' ever waits, however slow the target. */
export const SETTLE_CAP_MS = 250;
/** The most header work a request is assumed to cost, however slow its answer. */
export const HEAD_WORK_CEILING_MS = 3;
/** The service time assumed before any burst to the target has been seen. */
export const ASSUMED_SERVICE_MS = HEAD_WORK_CEILING_MS;
/** Service samples kept per target; their median is the estimate. */
export const SERVICE_SAMPLES = 5;
/** Targets remembered; the oldest is forgotten first. */
export const MAX_ORIGINS = 256;

export interface PauseInputs {
  /** Requests released together. */
  readonly count: number;
  /** Whether every request reuses a kept-alive connection. */
  readonly reused: boolean;
  /** The target's estimated service time (ms), undefined before any was measured. */
  readonly serviceMs: number | undefined;
}

/** The pause for one burst (ms, rounded to 0.1 ms). A fixed setting is used as given. */
export function settlePause(setting: ReleasePause, inputs: PauseInputs): number {
  if (setting !== 'auto') return setting;
  const floor = inputs.reused ? REUSED_FLOOR_MS : NEW_CONNECTION_FLOOR_MS;
  const service = Math.min(
    HEAD_WORK_CEILING_MS,
    Math.max(0, inputs.serviceMs ?? ASSUMED_SERVICE_MS),
  );
  const pause = floor + inputs.count * service;
  return Math.round(Math.min(SETTLE_CAP_MS, Math.max(floor, pause)) * 10) / 10;
}

/** One request of a finished burst: when its last byte went out and when its answer was in. */
export interface ReleaseTiming {
  /** performance.now() when the last byte was written. */
  readonly releasedAt: number;
  /** performance.now() when the response was complete; undefined when it failed. */
  readonly answeredAt: number | undefined;
}

/**
 * A service-time sample from a finished burst: the least time from release to a complete
 * answer. Undefined when no request was answered (nothing learnt).
 */
export function serviceSample(timings: readonly ReleaseTiming[]): number | undefined {
  let least: number | undefined;
  for (const { releasedAt, answeredAt } of timings) {
    if (answeredAt === undefined) continue;
    const latency = Math.max(0, answeredAt - releasedAt);
    if (least === undefined || latency < least) least = latency;
  }
  return least;
}

/** What the client has learnt of each target's service time (keyed by host:port). */
export class SettleMemory {
  private readonly samples = new Map<string, number[]>();

  /** The median of the last SERVICE_SAMPLES samples, or undefined before any. */
  serviceMs(origin: string): number | undefined {
    const kept = this.samples.get(origin);
    if (kept === undefined || kept.length === 0) return undefined;
    const sorted = [...kept].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
      ? (sorted[middle] ?? 0)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  }

  observe(origin: string, sample: number | undefined): void {
    if (sample === undefined || !Number.isFinite(sample)) return;
    const kept = this.samples.get(origin) ?? [];
    this.samples.delete(origin);
    if (this.samples.size >= MAX_ORIGINS) {
      const oldest = this.samples.keys().next().value;
      if (oldest !== undefined) this.samples.delete(oldest);
    }
    this.samples.set(origin, [...kept, sample].slice(-SERVICE_SAMPLES));
  }
}

/** The memory bursts use unless given their own: one per process. */
export const sharedSettleMemory = new SettleMemory();
