import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { PACKAGE_ROOT } from '../provision/tools-dir.js';
import { DEMO_FLAWS_HELP, demoCommand, type DemoCommandOptions } from './demo-command.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import type { Output } from './output.js';
import { setupCommand } from './setup-command.js';

function packageVersion(): string {
  const text = readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * The command line: a thin layer over the library. Actions throw; `bin.ts` turns what they
 * throw into an exit code.
 */
export function createProgram(output: Output): Command {
  const program = new Command()
    .name('idemproof')
    .description(
      'Proves that an HTTP API survives retries: one effect per Idempotency-Key, identical replays, refused key reuse.',
    )
    .version(packageVersion())
    // Throw instead of exiting, for this command and every subcommand added below.
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('setup')
    .description('install the Toxiproxy server (go install, into the project-local tools folder)')
    .action(() => setupCommand(output));

  program
    .command('demo')
    .description(
      'start PostgreSQL (embedded unless DATABASE_URL), the demo payments API and Toxiproxy, and print where they listen',
    )
    .option('--flaw <name>', 'turn on one realistic idempotency mistake in the demo target', 'none')
    .option('--port <port>', 'port of the demo target (0 picks a free one)', '0')
    .option(
      '--database-url <url>',
      'use this PostgreSQL instead of an embedded one (default: DATABASE_URL)',
    )
    .option(
      '--toxiproxy <url>',
      'use this Toxiproxy server (default: TOXIPROXY_URL, then a local binary, then Docker)',
    )
    .option(
      '--key-ttl <duration>',
      'how long the demo target keeps idempotency keys, e.g. 24h, 30s',
    )
    .option('--processing-ms <ms>', 'simulated payment-provider time per request')
    .addOption(new Option('--stop-after <duration>', 'stop by itself after this long, e.g. 30s'))
    .addHelpText('after', DEMO_FLAWS_HELP)
    .action((options: DemoCommandOptions) => demoCommand(options, output));

  return program;
}
