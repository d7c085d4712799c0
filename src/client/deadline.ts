/**
 * One deadline mechanism for every request idemproof sends (attempts, bursts, probes and
 * control-plane calls): a per-request AbortController aborted by a `setTimeout` that the
 * deadline holds until the request settles, and cleared then.
 *
 * Why not `AbortSignal.timeout()` combined through `AbortSignal.any()`: on Node 20 a garbage
 * collection can drop the combined signal before it fires (nodejs/node#57736), so an attempt
 * outlives its timeout by seconds or forever. A timer's callback that holds the controller
 * cannot be collected while the timer is pending.
 *
 * The run's stop signal gets one listener per stop signal (not one per request), which aborts
 * every deadline in flight on it: no MaxListenersExceededWarning however many are in flight.
 *
 * Must not: use `AbortSignal.timeout` or `AbortSignal.any`, leave a timer pending after
 * `settle()`, keep a settled deadline in the in-flight set, or add a listener per request to
 * the stop signal.
 */
export interface Deadline {
  /** Aborted when the time is up (reason: a `TimeoutError`) or the stop signal aborts. */
  readonly signal: AbortSignal;
  /** Did the time run out (rather than the stop signal, or nothing)? */
  readonly timedOut: boolean;
  /** The request is over: clears the timer and forgets the deadline. Safe to call twice. */
  settle(): void;
}

/** The reason a deadline aborts with: `errorCodeOf` turns its name into code TIMEOUT. */
export function timeoutError(timeoutMs: number): Error {
  return Object.assign(new Error(`no complete answer within ${timeoutMs} ms`), {
    name: 'TimeoutError',
  });
}

/** The in-flight controllers per stop signal; each stop signal has one listener, ever. */
const inFlightByStop = new WeakMap<AbortSignal, Set<AbortController>>();

function inFlightOn(stop: AbortSignal): Set<AbortController> {
  let inFlight = inFlightByStop.get(stop);
  if (inFlight === undefined) {
    const created = new Set<AbortController>();
    inFlight = created;
    inFlightByStop.set(stop, created);
    stop.addEventListener(
      'abort',
      () => {
        for (const controller of created) controller.abort(stop.reason);
        created.clear();
      },
      { once: true },
    );
  }
  return inFlight;
}

/** Starts a deadline of `timeoutMs` (also ended by `stop`); call `settle()` when done. */
export function startDeadline(timeoutMs: number, stop?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  let settled = false;
  const inFlight = stop === undefined ? undefined : inFlightOn(stop);
  // The pending timer holds the controller strongly, whatever a garbage collection does.
  const timer: NodeJS.Timeout = setTimeout(() => {
    timedOut = true;
    inFlight?.delete(controller);
    controller.abort(timeoutError(timeoutMs));
  }, timeoutMs);
  if (stop?.aborted === true) controller.abort(stop.reason);
  else inFlight?.add(controller);
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    settle() {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inFlight?.delete(controller);
    },
  };
}

/** Runs `work` under a deadline and settles it however `work` ends. */
export async function withDeadline<T>(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  stop?: AbortSignal,
): Promise<T> {
  const deadline = startDeadline(timeoutMs, stop);
  try {
    return await work(deadline.signal);
  } finally {
    deadline.settle();
  }
}
