import { installKafka } from '../provision/kafka-install.js';
import { ensureRabbitmq } from '../provision/rabbitmq-install.js';
import { installToxiproxy } from '../provision/toxiproxy-install.js';
import type { Output } from './output.js';

/**
 * `idemproof setup`: installs what idemproof starts by itself. Always the Toxiproxy server,
 * built with `go install` into the tools folder (PostgreSQL binaries come with npm); with
 * `--brokers` also what `demo --consumer` and consumer tests start: Apache Kafka's jars from
 * Maven Central into the tools folder, and Debian's rabbitmq-server package (as root).
 */
export async function setupCommand(
  options: { readonly brokers?: boolean },
  output: Output,
): Promise<void> {
  const log = (line: string): void => output.info(line);
  const toxiproxy = await installToxiproxy({ log });
  output.result(
    toxiproxy.installed
      ? `toxiproxy-server installed at ${toxiproxy.path} (${toxiproxy.seconds.toFixed(1)} s)`
      : `toxiproxy-server present at ${toxiproxy.path}`,
  );
  if (options.brokers !== true) return;
  const kafka = await installKafka({ log });
  output.result(
    `Kafka ${kafka.version} ${kafka.installed ? `installed (${kafka.seconds.toFixed(1)} s)` : 'present'} at ${kafka.home}`,
  );
  const rabbitmq = await ensureRabbitmq({ log });
  output.result(
    `rabbitmq-server ${rabbitmq.installed ? `installed (${rabbitmq.seconds.toFixed(1)} s)` : 'present'} at ${rabbitmq.server}`,
  );
}
