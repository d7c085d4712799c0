import { getEventListeners } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDeadline, withDeadline } from '../../../src/client/deadline.js';
import { attemptErrorOf, errorCodeOf } from '../../../src/client/send.js';

describe('startDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts at the timeout with a TimeoutError, which is recorded as TIMEOUT', () => {
    const deadline = startDeadline(300);
    vi.advanceTimersByTime(299);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.timedOut).toBe(true);
    expect(errorCodeOf(deadline.signal.reason).code).toBe('TIMEOUT');
    deadline.settle();
  });

  it('settle() clears its timer: nothing is left pending and the signal never aborts', () => {
    const deadline = startDeadline(300);
    expect(vi.getTimerCount()).toBe(1);
    deadline.settle();
    deadline.settle();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(deadline.signal.aborted).toBe(false);
    expect(deadline.timedOut).toBe(false);
  });

  it('gives the stop signal one listener however many deadlines are in flight, and aborts them all', () => {
    const stop = new AbortController();
    const deadlines = Array.from({ length: 50 }, () => startDeadline(10_000, stop.signal));
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    const settled = deadlines[0];
    settled?.settle();
    const reason = new Error('interrupted');
    stop.abort(reason);
    expect(settled?.signal.aborted).toBe(false);
    for (const deadline of deadlines.slice(1)) {
      expect(deadline.signal.reason).toBe(reason);
      expect(deadline.timedOut).toBe(false);
      deadline.settle();
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts aborted when the stop signal already is', () => {
    const stop = new AbortController();
    stop.abort(new Error('stopped before'));
    const deadline = startDeadline(10_000, stop.signal);
    expect(deadline.signal.aborted).toBe(true);
    deadline.settle();
  });

  it('withDeadline settles however the work ends', async () => {
    await expect(withDeadline(1000, () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await expect(withDeadline(1000, () => Promise.resolve(7))).resolves.toBe(7);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('attemptErrorOf', () => {
  const socketError = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });

  it('says INTERRUPTED when the run stopped, before anything else', () => {
    const stop = new AbortController();
    stop.abort(new Error('Ctrl-C'));
    expect(attemptErrorOf(socketError, { timedOut: true }, stop.signal)).toEqual({
      code: 'INTERRUPTED',
      message: 'no answer recorded: Ctrl-C',
    });
  });

  it('says TIMEOUT when the deadline ran out, whatever error the cut produced', () => {
    expect(attemptErrorOf(socketError, { timedOut: true }, undefined).code).toBe('TIMEOUT');
  });

  it("otherwise keeps the error's own code", () => {
    expect(attemptErrorOf(socketError, { timedOut: false }, undefined).code).toBe('UND_ERR_SOCKET');
  });
});

describe('one deadline mechanism', () => {
  const SRC = fileURLToPath(new URL('../../../src', import.meta.url));
  const sources = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? sources(join(folder, entry.name))
        : entry.name.endsWith('.ts')
          ? [join(folder, entry.name)]
          : [],
    );

  it('no code in src/ uses AbortSignal.timeout or AbortSignal.any (GC can drop them on Node 20)', () => {
    const uses = sources(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line: line.trim(), where: `${file}:${index + 1}` }))
        .filter(({ line }) => !line.startsWith('*') && !line.startsWith('//'))
        .filter(({ line }) => /AbortSignal\.(timeout|any)\(/.test(line))
        .map(({ where }) => where),
    );
    expect(uses).toEqual([]);
  });
});
