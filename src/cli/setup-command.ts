import { installToxiproxy } from '../provision/toxiproxy-install.js';
import type { Output } from './output.js';

/**
 * `idemproof setup`: installs what idemproof starts by itself. Today that is the Toxiproxy
 * server, built with `go install` into the tools folder; PostgreSQL binaries come with npm.
 */
export async function setupCommand(output: Output): Promise<void> {
  const result = await installToxiproxy({ log: (line) => output.info(line) });
  output.result(
    result.installed
      ? `toxiproxy-server installed at ${result.path} (${result.seconds.toFixed(1)} s)`
      : `toxiproxy-server present at ${result.path}`,
  );
}
