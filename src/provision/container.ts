import type { GenericContainer, StartedTestContainer, Wait } from 'testcontainers';
import { IdemproofError, describeError, type ErrorCode } from '../errors.js';
import { registerCleanup } from './cleanup.js';

export interface ManagedContainer {
  readonly container: StartedTestContainer;
  /** Stops and removes it (once); also registered for signals and errors. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts a container through testcontainers (loaded only when needed) and registers its
 * removal like every process idemproof starts. `configure` sets ports, environment and the
 * wait strategy; a failure is an IdemproofError with `errorCode`.
 */
export async function startManagedContainer(
  image: string,
  errorCode: ErrorCode,
  configure: (container: GenericContainer, wait: typeof Wait) => GenericContainer,
): Promise<ManagedContainer> {
  const testcontainers = await import('testcontainers');
  let container: StartedTestContainer;
  try {
    container = await configure(new testcontainers.GenericContainer(image), testcontainers.Wait)
      .withStartupTimeout(60_000)
      .start();
  } catch (error) {
    throw new IdemproofError(
      errorCode,
      `could not start ${image} through testcontainers: ${describeError(error)}`,
      { cause: error },
    );
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unregister();
    await container.stop({ remove: true });
  };
  const unregister = registerCleanup({
    name: `container ${image}`,
    run: stop,
    resource: { kind: 'container', id: container.getId(), image },
  });
  return { container, stop };
}
