import type { DownstreamEvent } from '../history/events.js';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Downstream, DownstreamAnswer } from '../scenario/schema-chaos.js';

/**
 * An HTTP endpoint idemproof hosts for targets whose effect is an outbound call (a webhook, a
 * carrier booking). The target is told to call `{{sink}}/<key or marker>`; the sink counts the
 * calls per last path segment (the token) and answers 204.
 *
 * Programmed as a downstream (`program`), it plays a flaky third party instead: per token and
 * call number it answers ok, drops the connection after reading the request, never answers,
 * answers a status, or answers late; each call is handed to the run's recording callback, and
 * the effect count becomes the downstream's effects (processed calls, one per forwarded key).
 *
 * Must not: listen beyond loopback, keep request bodies, or hold a request past `close`.
 */
export interface Sink {
  readonly url: string;
  /** Calls per token, or with a downstream programmed, the downstream's effects for it. */
  count(token: string): number;
  /**
   * Plays `downstream` from now on (undefined: the plain counting sink), handing each call to
   * `record`. Call numbers and effects are kept per token for the whole run.
   */
  program(downstream: Downstream | undefined, record?: (call: DownstreamCall) => void): void;
  close(): Promise<void>;
}

/** One call the target made to the programmed downstream: its history event, before recording. */
export type DownstreamCall = Omit<DownstreamEvent, 'type' | 'index' | 'time' | 'scenario'>;

interface TokenCalls {
  calls: number;
  /** Processed calls: their forwarded key, or null when the call carried none. */
  readonly processed: (string | null)[];
}

/** The answer to the `call`-th call (1-based): the last answer repeats. */
export function answerFor(downstream: Downstream, call: number): DownstreamAnswer {
  const { answers } = downstream;
  return answers[Math.min(call, answers.length) - 1] ?? 'ok';
}

/** "ok", "drop", "timeout", "503", "slow 2000 ms". */
export function describeAnswer(answer: DownstreamAnswer): string {
  if (typeof answer === 'string') return answer;
  if ('status' in answer) return String(answer.status);
  return `slow ${answer.slowMs} ms`;
}

/** Whether the downstream did the work: ok, drop, slow and statuses below 400 are processed. */
export function isProcessed(answer: DownstreamAnswer): boolean {
  if (answer === 'timeout') return false;
  if (typeof answer === 'object' && 'status' in answer) return answer.status < 400;
  return true;
}

/** Effects of processed calls: one per distinct forwarded key, one per call without one. */
export function effectsOf(processed: readonly (string | null)[], dedupe: boolean): number {
  if (!dedupe) return processed.length;
  const keyed = new Set(processed.filter((key): key is string => key !== null));
  return keyed.size + processed.filter((key) => key === null).length;
}

function tokenOf(url: string | undefined): string {
  const path = new URL(url ?? '/', 'http://sink.invalid').pathname;
  return decodeURIComponent(
    path
      .split('/')
      .filter((part) => part !== '')
      .pop() ?? '',
  );
}

function headerOf(headers: NodeJS.Dict<string | string[]>, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

export async function startSink(): Promise<Sink> {
  const calls = new Map<string, number>();
  const downstreamCalls = new Map<string, TokenCalls>();
  const held = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  let programmed: { downstream: Downstream; record?: (call: DownstreamCall) => void } | undefined;

  const answerLater = (response: ServerResponse, ms: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      response.writeHead(204);
      response.end();
    }, ms);
    timers.add(timer);
  };

  const server = createServer((request, response) => {
    const token = tokenOf(request.url);
    calls.set(token, (calls.get(token) ?? 0) + 1);
    const current = programmed;
    request.resume();
    request.on('end', () => {
      if (current === undefined) {
        response.writeHead(204);
        response.end();
        return;
      }
      const { downstream, record } = current;
      const entry = downstreamCalls.get(token) ?? { calls: 0, processed: [] };
      downstreamCalls.set(token, entry);
      entry.calls += 1;
      const answer = answerFor(downstream, entry.calls);
      const forwardedKey =
        downstream.forwardedKey === undefined
          ? null
          : headerOf(request.headers, downstream.forwardedKey);
      const processed = isProcessed(answer);
      if (processed) entry.processed.push(forwardedKey);
      record?.({
        token,
        call: entry.calls,
        forwardedKey,
        ...(downstream.forwardedKey === undefined
          ? {}
          : { forwardedHeader: downstream.forwardedKey }),
        answer: describeAnswer(answer),
        processed,
      });
      if (answer === 'ok') {
        response.writeHead(204);
        response.end();
      } else if (answer === 'drop') {
        request.socket.destroy();
      } else if (answer === 'timeout') {
        held.add(response);
        response.on('close', () => held.delete(response));
      } else if ('status' in answer) {
        response.writeHead(answer.status, { 'content-type': 'text/plain' });
        response.end(`downstream answered ${answer.status}\n`);
      } else {
        answerLater(response, answer.slowMs);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sink`,
    count(token) {
      if (programmed === undefined) return calls.get(token) ?? 0;
      const entry = downstreamCalls.get(token);
      return entry === undefined
        ? 0
        : effectsOf(entry.processed, programmed.downstream.forwardedKey !== undefined);
    },
    program(downstream, record) {
      programmed =
        downstream === undefined
          ? undefined
          : { downstream, ...(record === undefined ? {} : { record }) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const response of held) response.destroy();
        held.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
