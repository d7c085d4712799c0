/** What the Kafka and RabbitMQ clients share: bounded waits and the dead-letter scan's tally. */

/** How long connecting to a broker may take. */
export const CONNECT_TIMEOUT_MS = 5000;

/** `promise`, or a rejection naming `what` after `ms` (the promise keeps running unobserved). */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = 'no answer',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${String(ms)} ms`)), ms);
  });
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The bookkeeping of a dead-letter scan: the ids it looks for, and those it took in the order
 * they came (twice if a dead letter was there twice).
 */
export class DeadLetterTally {
  readonly found: string[] = [];
  private readonly wanted: ReadonlySet<string>;
  private readonly seen = new Set<string>();

  constructor(ids: readonly string[]) {
    this.wanted = new Set(ids);
  }

  /** Whether `id` is one the scan looks for. */
  wants(id: string | undefined): id is string {
    return id !== undefined && this.wanted.has(id);
  }

  /** Notes a wanted id as taken. */
  take(id: string): void {
    this.seen.add(id);
    this.found.push(id);
  }

  /** Whether every wanted id was taken at least once (at once when none is wanted). */
  get complete(): boolean {
    return this.seen.size === this.wanted.size;
  }
}
