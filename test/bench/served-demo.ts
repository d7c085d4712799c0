/**
 * The demo target in its own process (`idemproof demo --serve`), as a benchmark's target: a
 * real target never shares an event loop with the client measuring it, so neither should the
 * demo. The child starts its own Toxiproxy and, unless given one, its own PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/provision/tools-dir.js';

export interface ServedDemo {
  /** The demo target, straight. */
  readonly target: string;
  /** The demo's clean Toxiproxy proxy in front of the target. */
  readonly proxy: string;
  /** The Toxiproxy API the demo started (or was given). */
  readonly toxiproxyUrl: string;
  stop(): Promise<void>;
}

export interface ServeDemoOptions {
  readonly flaw?: string;
  readonly recordArrivals?: boolean;
  readonly databaseUrl?: string;
  readonly keyTtl?: string;
}

const START_TIMEOUT_MS = 60_000;

export async function serveDemo(options: ServeDemoOptions = {}): Promise<ServedDemo> {
  const args = [
    join(PACKAGE_ROOT, 'dist', 'cli', 'bin.js'),
    'demo',
    '--serve',
    '--processing-ms',
    '0',
    '--flaw',
    options.flaw ?? 'none',
    '--stop-after',
    '30m',
    ...(options.recordArrivals === true ? ['--record-arrivals'] : []),
    ...(options.databaseUrl === undefined ? [] : ['--database-url', options.databaseUrl]),
    ...(options.keyTtl === undefined ? [] : ['--key-ttl', options.keyTtl]),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/Stopping in/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`the demo target did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const field = (pattern: RegExp): string => {
    const value = pattern.exec(output)?.[1];
    if (value === undefined)
      throw new Error(`the demo's output lacks ${String(pattern)}:\n${output}`);
    return value;
  };
  return {
    target: field(/demo target\s+(http:\/\/\S+)/),
    proxy: field(/through proxy\s+(http:\/\/\S+)/),
    toxiproxyUrl: field(/Toxiproxy API\s+(http:\/\/\S+)/),
    stop,
  };
}
