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
 * That full pause is an upper bound: a slow answer may be all database and no header work.
 * SettleMemory learns per target which share of it (PAUSE_SHARES) leaves the burst's
 * answers no more spread out, trying shorter pauses in turns with the full one, so a target whose
 * headers cost nothing is not kept waiting for them.
 *
 * Must not: measure anything itself (burst.ts reports its observations), go below the floors
 * or above the cap in 'auto', let more than MIN_LEVEL_SAMPLES bursts at once try a pause not
 * yet judged, or keep unbounded memory (SettleMemory keeps MAX_ORIGINS, and SERVICE_SAMPLES
 * samples per level).
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
  /** The share of the per-request allowance to wait (default 1: the full pause). */
  readonly share?: number;
}

/** The pause for one burst (ms, rounded to 0.1 ms). A fixed setting is used as given. */
export function settlePause(setting: ReleasePause, inputs: PauseInputs): number {
  if (setting !== 'auto') return setting;
  const floor = inputs.reused ? REUSED_FLOOR_MS : NEW_CONNECTION_FLOOR_MS;
  const service = Math.min(
    HEAD_WORK_CEILING_MS,
    Math.max(0, inputs.serviceMs ?? ASSUMED_SERVICE_MS),
  );
  const share = Math.min(1, Math.max(0, inputs.share ?? 1));
  const pause = floor + inputs.count * service * share;
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

/**
 * An answer-spread sample from a finished burst: the time from its first complete answer to
 * its last. Header work left over at the release makes the requests the target had not yet
 * reached complete late, one by one, and spreads the answers by about that work; a target
 * slow for other reasons (a database, queued work) delays them all alike. Undefined when
 * fewer than two requests were answered.
 */
export function answerSpreadSample(timings: readonly ReleaseTiming[]): number | undefined {
  let first: number | undefined;
  let last: number | undefined;
  let answered = 0;
  for (const { answeredAt } of timings) {
    if (answeredAt === undefined) continue;
    answered += 1;
    if (first === undefined || answeredAt < first) first = answeredAt;
    if (last === undefined || answeredAt > last) last = answeredAt;
  }
  return answered < 2 || first === undefined || last === undefined ? undefined : last - first;
}

/**
 * The shares of the full per-request allowance 'auto' tries, longest pause first: level 0 is
 * the full pause, which keeps the reference service time; each deeper level is tried and kept
 * only while it answers no slower than level 0 (see SettleMemory).
 */
export const PAUSE_SHARES = [1, 1 / 3, 1 / 9, 0] as const;
/** Samples a level needs before it is judged (and level 0 before any shorter level is tried). */
export const MIN_LEVEL_SAMPLES = 3;
/** Every this many bursts to a target, one goes at level 0 and one tries the next shorter level. */
export const RECHECK_EVERY = 16;
/**
 * A shorter pause is as good as the full one while its median answer spread stays within
 * SLOWER_FACTOR × the full pause's median + SLOWER_MARGIN_MS: header work left over at the
 * release spreads the answers by about that work, while the noise of a busy machine and of
 * the client's own concurrent bursts mostly stays within it.
 */
export const SLOWER_FACTOR = 1.5;
export const SLOWER_MARGIN_MS = 1;

/** What 'auto' does for one burst: the level it tries and the service time to size it with. */
export interface SettlePlan {
  /** Index into PAUSE_SHARES; pass it back to `observe`. */
  readonly level: number;
  /** PAUSE_SHARES[level]: the share of the full per-request allowance. */
  readonly share: number;
  /** The reference service time (level 0), undefined before any was measured. */
  readonly serviceMs: number | undefined;
}

interface LevelState {
  /** Service samples of bursts sent at this level, the last SERVICE_SAMPLES. */
  samples: number[];
  /** Their answer-spread samples. */
  spreads: number[];
  /** Bursts planned at this level and not yet observed. */
  pending: number;
}

interface OriginState {
  readonly levels: LevelState[];
  planned: number;
  /** Whose turn it is while a level is tried: level 0's (true) or the tried level's. */
  turn: boolean;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Whether a level's answers show no header work left over at the release (see SLOWER_FACTOR). */
export function asFastAs(levelMs: number, referenceMs: number): boolean {
  return levelMs <= referenceMs * SLOWER_FACTOR + SLOWER_MARGIN_MS;
}

/**
 * What the client has learnt of each target (keyed by host:port): per pause level, the
 * service and answer-spread samples of its last bursts.
 *
 * The service time alone cannot tell header work from the rest of a request's work (a slow
 * database answers late whatever the pause), so 'auto' also learns how the burst's answer
 * spread responds to the pause: header work left over at the release spreads the answers,
 * work on the body or a slow database does not. Level 0 (the full pause) comes first and keeps the reference; then each shorter
 * level is tried for MIN_LEVEL_SAMPLES bursts, in turns with level 0, and kept while
 * `asFastAs` the reference, so a target whose headers cost nothing gets the floor, and one
 * whose headers cost CPU keeps the pause that covers them. Every RECHECK_EVERY bursts one burst refreshes the reference and one
 * retries the next shorter level, so the choice follows a target that changes. No more than
 * MIN_LEVEL_SAMPLES bursts try an unjudged level at once, however many run concurrently.
 */
export class SettleMemory {
  private readonly origins = new Map<string, OriginState>();

  /** The reference service time: the median of the last level-0 samples, or undefined. */
  serviceMs(origin: string): number | undefined {
    return median(this.origins.get(origin)?.levels[0]?.samples ?? []);
  }

  /** Chooses the level of the next 'auto' burst to `origin`; `observe` must follow. */
  plan(origin: string): SettlePlan {
    const state = this.state(origin);
    state.planned += 1;
    const level = this.levelFor(state);
    const chosen = state.levels[level] as LevelState;
    chosen.pending += 1;
    return {
      level,
      share: PAUSE_SHARES[level] ?? 1,
      serviceMs: median(state.levels[0]?.samples ?? []),
    };
  }

  /**
   * Records a burst's service and answer-spread samples at `level` (default 0) and ends its
   * plan, if any. A burst with no spread sample (fewer than two answers) adds none.
   */
  observe(origin: string, sample: number | undefined, level = 0, spread?: number): void {
    const state = this.state(origin);
    const at = state.levels[level];
    if (at === undefined) return;
    at.pending = Math.max(0, at.pending - 1);
    if (sample === undefined || !Number.isFinite(sample)) return;
    at.samples.push(Math.max(0, sample));
    if (at.samples.length > SERVICE_SAMPLES) at.samples.shift();
    if (spread === undefined || !Number.isFinite(spread)) return;
    at.spreads.push(Math.max(0, spread));
    if (at.spreads.length > SERVICE_SAMPLES) at.spreads.shift();
  }

  private levelFor(state: OriginState): number {
    const [reference] = state.levels as [LevelState];
    const tried = (at: LevelState): number => at.spreads.length + at.pending;
    const referenceMs = median(reference.spreads);
    if (referenceMs === undefined || tried(reference) < MIN_LEVEL_SAMPLES) return 0;
    if (state.planned % RECHECK_EVERY === 0) return 0;
    // The shortest level reached through levels all as fast as the reference.
    let level = 0;
    for (let next = 1; next < state.levels.length; next += 1) {
      const at = state.levels[next] as LevelState;
      const levelMs = median(at.spreads);
      if (at.spreads.length < MIN_LEVEL_SAMPLES) {
        // Not judged yet: try it, unless enough bursts are already trying it, taking turns
        // with level 0 so the reference it is judged against is measured alongside it (the
        // first bursts to a target are slow while it warms up, and the load changes).
        if (tried(at) >= MIN_LEVEL_SAMPLES) return level;
        state.turn = !state.turn;
        return state.turn ? 0 : next;
      }
      if (levelMs === undefined || !asFastAs(levelMs, referenceMs)) {
        // Slower: stay, but retry it now and then (the target may have changed).
        return state.planned % RECHECK_EVERY === RECHECK_EVERY / 2 ? next : level;
      }
      level = next;
    }
    return level;
  }

  /** The state of `origin`, created (and the oldest target forgotten) as needed. */
  private state(origin: string): OriginState {
    const known = this.origins.get(origin);
    if (known !== undefined) {
      // Least recently used last: re-insert.
      this.origins.delete(origin);
      this.origins.set(origin, known);
      return known;
    }
    if (this.origins.size >= MAX_ORIGINS) {
      const oldest = this.origins.keys().next().value;
      if (oldest !== undefined) this.origins.delete(oldest);
    }
    const created: OriginState = {
      levels: PAUSE_SHARES.map(() => ({ samples: [], spreads: [], pending: 0 })),
      planned: 0,
      turn: false,
    };
    this.origins.set(origin, created);
    return created;
  }
}

/** The memory bursts use unless given their own: one per process. */
export const sharedSettleMemory = new SettleMemory();
