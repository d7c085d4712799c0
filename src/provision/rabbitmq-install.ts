import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IdemproofError, describeError } from '../errors.js';
import { findOnPath, isExecutable } from './tools-dir.js';

const run = promisify(execFile);

/** Where Debian's `rabbitmq-server` package keeps the real scripts (not the root wrappers). */
export const RABBITMQ_DEBIAN_BIN = '/usr/lib/rabbitmq/bin';
export const RABBITMQ_APT_COMMAND = 'apt-get install -y --no-install-recommends rabbitmq-server';

const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
const SERVICE_STOP_TIMEOUT_MS = 60 * 1000;

export interface RabbitmqInstallResult {
  /** The `rabbitmq-server` script; `rabbitmqctl` sits beside it. */
  readonly server: string;
  readonly installed: boolean;
  readonly seconds: number;
}

/**
 * The `rabbitmq-server` script to start a private node with (on PATH, in /usr/lib/rabbitmq/bin,
 * in /usr/sbin), or undefined. Debian's `/usr/sbin/rabbitmq-server` is a wrapper that, as
 * root, switches to the `rabbitmq` user and resets HOME: the script it wraps is used instead.
 */
export async function findRabbitmqServer(
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const candidates = [
    await findOnPath('rabbitmq-server', env),
    join(RABBITMQ_DEBIAN_BIN, 'rabbitmq-server'),
    '/usr/sbin/rabbitmq-server',
  ];
  for (const candidate of candidates) {
    if (candidate === undefined || !(await isExecutable(candidate))) continue;
    if (await isDebianWrapper(candidate)) {
      const wrapped = join(RABBITMQ_DEBIAN_BIN, 'rabbitmq-server');
      if (await isExecutable(wrapped)) return wrapped;
      continue;
    }
    return candidate;
  }
  return undefined;
}

async function isDebianWrapper(path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.startsWith('#!') && text.includes(RABBITMQ_DEBIAN_BIN);
}

let installing: Promise<RabbitmqInstallResult> | undefined;

/**
 * Makes sure RabbitMQ's server scripts are on this machine: found (fast, nothing changes), or,
 * as root on Debian, installed with apt-get; the system service the package may start is
 * stopped again, so the default node holds no ports.
 *
 * Must not: install anything when a server is present, run apt-get when not root, or leave
 * the system's RabbitMQ service running after installing it.
 */
export async function ensureRabbitmq(
  options: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<RabbitmqInstallResult> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const present = await findRabbitmqServer(env);
  if (present !== undefined) return { server: present, installed: false, seconds: 0 };
  installing ??= installWithApt(env, log).finally(() => {
    installing = undefined;
  });
  return installing;
}

async function installWithApt(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<RabbitmqInstallResult> {
  const apt = await findOnPath('apt-get', env);
  const isRoot = process.getuid?.() === 0;
  if (apt === undefined || !isRoot) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `RabbitMQ is not installed (no rabbitmq-server in ${RABBITMQ_DEBIAN_BIN}, on PATH or in ` +
        `/usr/sbin) and idemproof cannot install it here (${apt === undefined ? 'no apt-get: not Debian or Ubuntu' : 'not running as root'}). ` +
        `Install it (Debian/Ubuntu: 'sudo ${RABBITMQ_APT_COMMAND}'; others: ` +
        `https://www.rabbitmq.com/docs/download), or pass the URL of a running broker ` +
        `(IDEMPROOF_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672).`,
    );
  }
  const started = Date.now();
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptRun = (args: string[]): Promise<unknown> =>
    run(apt, ['-o', 'DPkg::Lock::Timeout=300', ...args], {
      env: aptEnv,
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 32 * 1024 * 1024,
    });
  const install = ['install', '-y', '--no-install-recommends', 'rabbitmq-server'];
  log(`installing RabbitMQ: ${RABBITMQ_APT_COMMAND}`);
  try {
    try {
      await aptRun(install);
    } catch (error) {
      if (!aptIndexMissing(`${describeError(error)}${stderrOf(error)}`)) throw error;
      log('the package index is missing or stale: apt-get update, then install again');
      await aptRun(['update']);
      await aptRun(install);
    }
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `'${RABBITMQ_APT_COMMAND}' failed: ${describeError(error)}${stderrOf(error)}\n` +
        `Install RabbitMQ yourself, or pass the URL of a running broker (IDEMPROOF_RABBITMQ_URL).`,
      { cause: error },
    );
  }
  await stopSystemService(env, log);
  const server = await findRabbitmqServer(env);
  if (server === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `'${RABBITMQ_APT_COMMAND}' succeeded but no rabbitmq-server script is in ${RABBITMQ_DEBIAN_BIN}.`,
    );
  }
  const seconds = (Date.now() - started) / 1000;
  log(`installed RabbitMQ (${server}) in ${seconds.toFixed(1)} s`);
  return { server, installed: true, seconds };
}

function stderrOf(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr;
  return typeof stderr === 'string' && stderr.trim() !== '' ? `\n${stderr.trim()}` : '';
}

/** apt-get's words for "no index, or an index naming files the mirror no longer has". */
export function aptIndexMissing(output: string): boolean {
  return /Unable to locate package|has no installation candidate|404\s+Not Found|Unable to fetch some archives/i.test(
    output,
  );
}

/**
 * The package starts the default node where services may start (systemd, no policy-rc.d):
 * it would hold ports 5672, 25672 and epmd's 4369. Each step may fail harmlessly when
 * nothing was started.
 */
async function stopSystemService(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  const steps: [string, string[]][] = [
    ['service', ['rabbitmq-server', 'stop']],
    ['rabbitmqctl', ['stop']],
    ['epmd', ['-kill']],
  ];
  for (const [name, args] of steps) {
    const command = await findOnPath(name, env);
    if (command === undefined) continue;
    try {
      await run(command, args, { env, timeout: SERVICE_STOP_TIMEOUT_MS });
      log(`stopped the system's RabbitMQ: ${name} ${args.join(' ')}`);
    } catch {
      // Not running: nothing to stop.
    }
  }
}
