/**
 * A target served by several worker processes (node:cluster), for the multi-process burst
 * benchmark and its integration test. Each worker spends `headerCpuMs` of CPU on a request as
 * soon as its headers arrive (before reading the body, as request authentication does), then
 * claims the key on a store kept in the cluster primary (over IPC), which checks and inserts
 * `windowMs` later with no unique index, so requests of one key that complete within about
 * the window all insert. `GET /effects?key=K` reads the effects of a key; `GET /arrivals?key=K` the times
 * (ms, CLOCK_MONOTONIC, the same clock in every process) each request's body was complete.
 *
 * Run by `startMultiProcessTarget` in a child process of its own (the primary accepts the
 * connections, so it must not share an event loop with a client measuring it). Must not:
 * listen beyond 127.0.0.1, outlive its parent (it exits when its stdin closes) or its
 * `stopAfterMs`, or keep more than MAX_KEYS keys.
 */
import { spawn } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface MultiProcessOptions {
  /** Worker processes (default 2). */
  readonly workers?: number;
  /** CPU spent per request when its headers arrive (default 0.7 ms). */
  readonly headerCpuMs?: number;
  /** Gap between the check and the insert (default 1 ms). */
  readonly windowMs?: number;
  /** The target exits after this long whatever happens (default 10 minutes). */
  readonly stopAfterMs?: number;
}

export interface MultiProcessTarget {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly workers: number;
  /** Rows inserted for `key`. */
  effects(key: string): Promise<number>;
  /** Server-side arrival spread of `key`'s requests: latest − earliest body completion (ms). */
  spread(key: string): Promise<number>;
  stop(): Promise<void>;
}

const MAX_KEYS = 100_000;
const START_TIMEOUT_MS = 30_000;
const SELF = fileURLToPath(import.meta.url);

/** Starts the target in a child process and waits until every worker listens. */
export async function startMultiProcessTarget(
  options: MultiProcessOptions = {},
): Promise<MultiProcessTarget> {
  const workers = options.workers ?? 2;
  const settings = {
    workers,
    headerCpuMs: options.headerCpuMs ?? 0.7,
    windowMs: options.windowMs ?? 1,
    stopAfterMs: options.stopAfterMs ?? 600_000,
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', SELF, '--serve', JSON.stringify(settings)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    // Closing stdin tells the primary to stop its workers and exit.
    child.stdin.end();
    const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(forced);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  let url: string | undefined;
  while ((url = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]) === undefined) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`the multi-process target did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const base = url;
  const read = async (path: string, key: string): Promise<Record<string, unknown>> => {
    const response = await fetch(`${base}${path}?key=${encodeURIComponent(key)}`);
    return (await response.json()) as Record<string, unknown>;
  };
  return {
    url: base,
    workers,
    effects: async (key) => Number((await read('/effects', key)).count),
    spread: async (key) => {
      const arrivals = (await read('/arrivals', key)).arrivals_ms as number[];
      return arrivals.length === 0 ? 0 : Math.max(...arrivals) - Math.min(...arrivals);
    },
    stop,
  };
}

// ---- inside the child process ----

interface Settings {
  readonly workers: number;
  readonly headerCpuMs: number;
  readonly windowMs: number;
  readonly stopAfterMs: number;
}

type Question =
  | { readonly op: 'claim'; readonly key: string; readonly at: number }
  | { readonly op: 'effects' | 'arrivals'; readonly key: string };
type Ask = Question & { readonly id: number };

interface Entry {
  count: number;
  arrivals: number[];
}

/** The primary: the shared store, the workers, and the bounds on both. */
function runPrimary(settings: Settings): void {
  const store = new Map<string, Entry>();
  const entry = (key: string): Entry => {
    let found = store.get(key);
    if (found === undefined) {
      if (store.size >= MAX_KEYS) store.delete(store.keys().next().value as string);
      found = { count: 0, arrivals: [] };
      store.set(key, found);
    }
    return found;
  };
  const answer = (worker: Worker, ask: Ask): void => {
    const found = entry(ask.key);
    if (ask.op !== 'claim') {
      worker.send({ id: ask.id, value: ask.op === 'effects' ? found.count : found.arrivals });
      return;
    }
    // Check, then insert windowMs later, with no unique index: every claim of the key that
    // checks within the window inserts too. The window runs here, where nothing else keeps
    // the event loop busy, so it stays windowMs long however busy the workers are.
    found.arrivals.push(ask.at);
    if (found.count > 0) {
      worker.send({ id: ask.id, value: false });
      return;
    }
    setTimeout(() => {
      found.count += 1;
      worker.send({ id: ask.id, value: true });
    }, settings.windowMs);
  };
  cluster.setupPrimary({
    execArgv: ['--import', 'tsx'],
    args: ['--worker', JSON.stringify(settings)],
  });
  let listening = 0;
  const all: Worker[] = [];
  for (let index = 0; index < settings.workers; index += 1) {
    const worker = cluster.fork();
    all.push(worker);
    worker.on('message', (ask: Ask) => answer(worker, ask));
    worker.once('listening', (address: { port: number }) => {
      listening += 1;
      if (listening === settings.workers)
        process.stdout.write(`listening http://127.0.0.1:${address.port}\n`);
    });
  }
  const stop = (): void => {
    for (const worker of all) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.stdin.resume();
  process.stdin.once('end', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  setTimeout(stop, settings.stopAfterMs).unref();
}

/** A worker: CPU on headers, then the claim (check-then-insert) through the primary. */
function runWorker(settings: Settings): void {
  let next = 0;
  const waiting = new Map<number, (value: unknown) => void>();
  process.on('message', (message: { id: number; value: unknown }) => {
    waiting.get(message.id)?.(message.value);
    waiting.delete(message.id);
  });
  const ask = (question: Question): Promise<unknown> =>
    new Promise((resolve) => {
      next += 1;
      waiting.set(next, resolve);
      process.send?.({ ...question, id: next });
    });
  const reply = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://target');
    const key = url.searchParams.get('key') ?? '';
    if (request.method === 'GET' && url.pathname === '/effects') {
      void ask({ op: 'effects', key }).then((count) => reply(response, 200, { key, count }));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/arrivals') {
      void ask({ op: 'arrivals', key }).then((arrivals) =>
        reply(response, 200, { key, arrivals_ms: arrivals }),
      );
      return;
    }
    // Request authentication: CPU spent as soon as the headers are in, body not yet read.
    const until = performance.now() + settings.headerCpuMs;
    while (performance.now() < until);
    const idempotencyKey = String(request.headers['idempotency-key'] ?? '');
    request.resume();
    request.once('end', () => {
      const at = Number(process.hrtime.bigint()) / 1e6;
      void ask({ op: 'claim', key: idempotencyKey, at }).then((created) =>
        created === true
          ? reply(response, 201, { created: true })
          : reply(response, 200, { replayed: true }),
      );
    });
  };
  const server = createServer(handle);
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  process.once('SIGTERM', () => process.exit(0));
  process.once('disconnect', () => process.exit(0));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const settings = JSON.parse(process.argv[3] ?? '{}') as Settings;
  if (process.argv[2] === '--serve' && cluster.isPrimary) runPrimary(settings);
  else if (process.argv[2] === '--worker' || cluster.isWorker) runWorker(settings);
}
