/**
 * Benchmark: how often a burst of 16 same-key requests catches a check-then-insert race on a
 * target served by several worker processes that spend CPU on each request's headers
 * (`multi-process-target.ts`), and the server-side arrival spread of each burst. Senders: a
 * plain `Promise.all(fetch)`, a hand-written last-byte sender on raw sockets, and idemproof's
 * last-byte burst with the adaptive settle pause and with the fixed pause it had before
 * (10 ms on new connections, 2 ms on kept-alive ones). Senders take turns burst by burst, in
 * rotating order, so machine noise falls on all of them alike.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Agent } from 'node:http';
import { pathToFileURL } from 'node:url';
import { sendSyncedBurst } from '../../src/client/burst.js';
import { SettleMemory, type ReleasePause } from '../../src/client/settle.js';
import { startMultiProcessTarget, type MultiProcessTarget } from './multi-process-target.js';
import { describeSamples, markdownTable, type Benchmark, type BenchSection } from './section.js';
import { attempt, body, fetchBurst } from './spread.js';

const BURST = 16;
/** Worker processes of the target (BENCH_WORKERS overrides). */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const HEADER_CPU_MS = 0.7;
const WINDOW_MS = 1;
/** The hand-written sender's fixed pause between the prepared requests and the last bytes. */
const HAND_PAUSE_MS = 50;
/** No burst of any sender may take longer than this (sockets are destroyed). */
const BURST_TIMEOUT_MS = 10_000;
const TARGET_RATE = 0.95;

interface Sender {
  readonly name: string;
  /** Sends BURST identical requests with `key`; resolves with the pause used, if any. */
  send(target: MultiProcessTarget, key: string): Promise<number | undefined>;
}

/** The hand-written sender: raw sockets, all but the last byte, a pause, the last bytes. */
async function handWritten(base: string, key: string): Promise<void> {
  const { hostname, port } = new URL(base);
  const payload = body(key);
  const raw = Buffer.from(
    `POST /payments HTTP/1.1\r\nHost: ${hostname}:${port}\r\nIdempotency-Key: ${key}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` +
      `Connection: close\r\n\r\n${payload}`,
  );
  const sockets = await Promise.all(
    Array.from(
      { length: BURST },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ host: hostname, port: Number(port) }, () => {
            socket.write(raw.subarray(0, raw.length - 1), () => resolve(socket));
          });
          socket.setNoDelay(true);
          socket.once('error', reject);
        }),
    ),
  );
  const closed = sockets.map(
    (socket) =>
      new Promise<void>((resolve) => {
        socket.resume();
        socket.once('close', () => resolve());
      }),
  );
  await new Promise((resolve) => setTimeout(resolve, HAND_PAUSE_MS));
  for (const socket of sockets) socket.write(raw.subarray(raw.length - 1));
  const cut = setTimeout(() => sockets.forEach((socket) => socket.destroy()), BURST_TIMEOUT_MS);
  await Promise.all(closed);
  clearTimeout(cut);
}

function senders(agent: Agent): Sender[] {
  const idemproof = (
    name: string,
    releasePauseMs: ReleasePause,
    keptAlive: boolean,
    memory?: SettleMemory,
  ): Sender => ({
    name,
    async send(target, key) {
      const { pauseMs } = await sendSyncedBurst(
        Array.from({ length: BURST }, () => ({
          ...attempt(target.url, key),
          freshConnection: !keptAlive,
        })),
        () => performance.now(),
        {
          releasePauseMs,
          ...(keptAlive ? { agent } : {}),
          ...(memory === undefined ? {} : { settleMemory: memory }),
        },
      );
      return pauseMs;
    },
  });
  return [
    {
      name: '(a) Promise.all(fetch)',
      async send(target, key) {
        await fetchBurst(target.url, key);
        return undefined;
      },
    },
    {
      name: `(b) hand-written last-byte (${HAND_PAUSE_MS} ms pause)`,
      async send(target, key) {
        await handWritten(target.url, key);
        return HAND_PAUSE_MS;
      },
    },
    idemproof('(c) idemproof auto · new connections', 'auto', false, new SettleMemory()),
    idemproof('(c) idemproof auto · kept alive', 'auto', true, new SettleMemory()),
    idemproof('(d) idemproof fixed 10 ms · new connections', 10, false),
    idemproof('(d) idemproof fixed 2 ms · kept alive', 2, true),
  ];
}

const round = (value: number): number => Math.round(value * 1000) / 1000;

interface Tally {
  detected: number;
  spreads: number[];
  /** Spreads of the bursts that did not catch the race. */
  missed: number[];
  pauses: number[];
}

export const multiProcess: Benchmark = async ({ tiny, log }): Promise<BenchSection> => {
  const bursts = tiny ? 3 : 40;
  const target = await startMultiProcessTarget({
    workers: WORKERS,
    headerCpuMs: HEADER_CPU_MS,
    windowMs: WINDOW_MS,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: BURST * 2 });
  const run = randomBytes(3).toString('hex');
  try {
    const all = senders(agent);
    const tallies = new Map<string, Tally>(
      all.map((sender) => [sender.name, { detected: 0, spreads: [], missed: [], pauses: [] }]),
    );
    for (let burst = 0; burst < bursts; burst += 1) {
      const order = all.map((_sender, index) => all[(index + burst) % all.length] as Sender);
      for (const sender of order) {
        const key = `mp-${run}-${burst}-${sender.name.replace(/\W+/g, '-')}`;
        const pause = await sender.send(target, key);
        const tally = tallies.get(sender.name) as Tally;
        const caught = (await target.effects(key)) > 1;
        const spread = await target.spread(key);
        if (caught) tally.detected += 1;
        else tally.missed.push(round(spread));
        tally.spreads.push(spread);
        if (pause !== undefined) tally.pauses.push(pause);
      }
      if ((burst + 1) % 10 === 0 || burst + 1 === bursts)
        log(`multi-process: burst ${burst + 1}/${bursts}`);
    }

    const figures = Object.fromEntries(
      [...tallies].map(([name, tally]) => {
        const spread = describeSamples(tally.spreads);
        const pauses = describeSamples(tally.pauses);
        return [
          name,
          {
            detected: tally.detected,
            bursts,
            rate: round(tally.detected / bursts),
            spreadMs: {
              median: round(spread.median),
              min: round(spread.min),
              max: round(spread.max),
              missedBursts: tally.missed,
            },
            ...(pauses.count === 0
              ? {}
              : { pauseMs: { median: round(pauses.median), min: pauses.min, max: pauses.max } }),
          },
        ];
      }),
    );
    const rate = (name: string): number => (tallies.get(name)?.detected ?? 0) / bursts;
    const hand = rate(all[1]?.name ?? '');
    const autoNames = all.filter((sender) => sender.name.includes('auto')).map((s) => s.name);
    const met = tiny
      ? null
      : autoNames.every((name) => rate(name) >= TARGET_RATE && rate(name) >= hand);
    return {
      name: 'multi-process',
      target: `idemproof auto pause: ≥ ${TARGET_RATE * 100} % of bursts of ${BURST} catch the race, and no fewer than the hand-written sender`,
      met,
      figures: {
        bursts,
        burst: BURST,
        workers: WORKERS,
        headerCpuMs: HEADER_CPU_MS,
        windowMs: WINDOW_MS,
        senders: figures,
      },
      limits: `The target (${WORKERS} worker processes under node:cluster, ${HEADER_CPU_MS} ms of CPU per request on its headers, a ${WINDOW_MS} ms check-then-insert window on a store in the primary, reached over IPC) shares the machine's cores with the client. Spread is latest − earliest body completion of a burst, taken with CLOCK_MONOTONIC in the workers. A burst is detected when its key has more than one effect; missedBursts lists the spreads of those that were not. The hand-written sender waits ${HAND_PAUSE_MS} ms on new connections; idemproof's kept-alive senders reuse one agent's connections from burst to burst.`,
      table: markdownTable(
        ['sender', 'detected', 'median spread (ms)', 'spread min–max', 'pause (ms)'],
        Object.entries(figures).map(([name, value]) => {
          const entry = value as {
            detected: number;
            spreadMs: { median: number; min: number; max: number };
            pauseMs?: { median: number; min: number; max: number };
          };
          return [
            name,
            `${entry.detected}/${bursts}`,
            entry.spreadMs.median,
            `${entry.spreadMs.min}–${entry.spreadMs.max}`,
            entry.pauseMs === undefined
              ? '—'
              : entry.pauseMs.min === entry.pauseMs.max
                ? entry.pauseMs.median
                : `${entry.pauseMs.median} (${entry.pauseMs.min}–${entry.pauseMs.max})`,
          ];
        }),
      ),
    };
  } finally {
    agent.destroy();
    await target.stop();
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const section = await multiProcess({
    tiny: process.argv.includes('--tiny'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(section.figures, null, 2)}\n${section.table}\n`);
}
