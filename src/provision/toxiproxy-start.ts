import { withDeadline } from '../client/deadline.js';
import { IdemproofError, describeError } from '../errors.js';
import { spawnManaged, waitUntilReady } from './child-process.js';
import { startManagedContainer } from './container.js';
import { findFreePort } from './free-port.js';
import {
  chooseToxiproxy,
  machineToxiproxyFacts,
  type ToxiproxyChoice,
  type ToxiproxyFacts,
} from './toxiproxy-locate.js';

/** A Toxiproxy server idemproof can talk to, and how to let go of it. */
export interface ToxiproxyServer {
  /** The API's origin, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  readonly choice: ToxiproxyChoice;
  /** One line for people: "toxiproxy-server (installed) pid 123 at http://…". */
  readonly description: string;
  /** Stops what idemproof started; for an existing server it does nothing. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

/** Is a Toxiproxy API answering at `url`? Resolves with its version text or throws. */
export async function toxiproxyVersion(url: string, timeoutMs = 3000): Promise<string> {
  // The deadline covers the answer's body too, and a garbage collection cannot drop it.
  const { ok, status, text } = await withDeadline(timeoutMs, async (signal) => {
    const response = await fetch(`${url}/version`, { signal });
    return { ok: response.ok, status: response.status, text: await response.text() };
  });
  if (!ok) throw new Error(`GET ${url}/version answered ${status}: ${text}`);
  return text.trim();
}

/**
 * Finds or starts a Toxiproxy server in the documented order (see `toxiproxy-locate.ts`).
 * Whatever it starts is stopped by `stop()`, and on process exit at the latest.
 */
export async function startToxiproxy(
  options: { optionUrl?: string | undefined; facts?: ToxiproxyFacts } = {},
): Promise<ToxiproxyServer> {
  const facts = options.facts ?? machineToxiproxyFacts({ optionUrl: options.optionUrl });
  const choice = await chooseToxiproxy(facts);
  switch (choice.way) {
    case 'url':
      return useExistingServer(choice);
    case 'binary':
      return startBinary(choice);
    case 'container':
      return startContainer(choice);
  }
}

async function useExistingServer(
  choice: Extract<ToxiproxyChoice, { way: 'url' }>,
): Promise<ToxiproxyServer> {
  try {
    await toxiproxyVersion(choice.url, 5000);
  } catch (error) {
    const source = choice.origin === 'option' ? '--toxiproxy' : 'TOXIPROXY_URL';
    throw new IdemproofError(
      'IDEMPROOF_ERR_TOXIPROXY_UNAVAILABLE',
      `${source}=${choice.url} does not answer GET /version: ${describeError(error)}`,
      { cause: error },
    );
  }
  return {
    url: choice.url,
    choice,
    description: `existing Toxiproxy server at ${choice.url} (from ${choice.origin})`,
    stop: () => Promise.resolve(),
  };
}

async function startBinary(
  choice: Extract<ToxiproxyChoice, { way: 'binary' }>,
): Promise<ToxiproxyServer> {
  let lastOutput = '';
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawnManaged('toxiproxy-server', choice.path, [
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
    ]);
    const state = await waitUntilReady(
      child,
      async () => (await toxiproxyVersion(url, 1000)).length > 0,
      START_TIMEOUT_MS,
    );
    if (state === 'ready') {
      return {
        url,
        choice,
        description: `toxiproxy-server (${choice.origin}: ${choice.path}) pid ${child.pid} at ${url}`,
        stop: () => child.stop(),
      };
    }
    lastOutput = child.output();
    await child.stop('SIGKILL');
    if (state === 'timeout' || !/address already in use/i.test(lastOutput)) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_PROCESS_START',
        `toxiproxy-server (${choice.path}) ${state === 'timeout' ? `did not answer within ${START_TIMEOUT_MS} ms` : 'exited during start'}` +
          (lastOutput ? `; its output:\n${lastOutput.trim()}` : ''),
      );
    }
  }
  throw new IdemproofError(
    'IDEMPROOF_ERR_PROCESS_START',
    `toxiproxy-server could not bind a free loopback port in 3 attempts; last output:\n${lastOutput.trim()}`,
  );
}

/**
 * Runs the Toxiproxy image with host networking, so proxies it creates on 127.0.0.1 reach
 * targets on this machine's loopback exactly as the binary does. Linux Docker engines (and
 * Docker Desktop with host networking enabled) support this.
 */
async function startContainer(
  choice: Extract<ToxiproxyChoice, { way: 'container' }>,
): Promise<ToxiproxyServer> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const { container, stop } = await startManagedContainer(
    choice.image,
    'IDEMPROOF_ERR_PROCESS_START',
    (generic, Wait) =>
      generic
        .withNetworkMode('host')
        .withCommand(['-host=127.0.0.1', `-port=${port}`])
        .withWaitStrategy(Wait.forLogMessage(/Starting Toxiproxy HTTP server/)),
  );
  return {
    url,
    choice,
    description: `${choice.image} container ${container.getId().slice(0, 12)} at ${url}`,
    stop,
  };
}
