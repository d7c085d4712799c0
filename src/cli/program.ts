import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { PACKAGE_ROOT } from '../provision/tools-dir.js';
import { DEMO_FLAWS_HELP, demoCommand, type DemoCommandOptions } from './demo-command.js';
import { CONSUMER_FLAWS_HELP } from './demo-consumer.js';
import { EXIT_CODES_HELP } from './exit-codes.js';
import { addCommandExamples, examplesHelp } from './help-examples.js';
import { initCommand, type InitCommandOptions } from './init-command.js';
import { validateCommand, type ValidateCommandOptions } from './validate-command.js';
import type { Output } from './output.js';
import { certifyCommand, type CertifyCommandOptions } from './certify-command.js';
import { cleanCommand, type CleanCommandOptions } from './clean-command.js';
import { reportCommand, type ReportCommandOptions } from './report-command.js';
import { setupCommand } from './setup-command.js';
import { runCommand, type RunCommandOptions } from './run-command.js';
import { exploreCommand, type ExploreCommandOptions } from './explore-command.js';
import {
  consumerJsonSchema,
  profileJsonSchema,
  scenarioJsonSchema,
} from '../scenario/json-schema.js';
import { PROFILE_NAMES } from '../scenario/profile.js';
import { REPEAT_FLAGS, REPEAT_HELP } from './parse-options.js';

/** Blast-radius options, on every command that sends traffic. */
function withSafetyOptions(command: Command): Command {
  return command
    .option('--max-rps <n>', 'at most this many requests per second to the target, averaged')
    .option('--max-requests <n>', 'stop before sending more requests than this in all')
    .option('--max-duration <duration>', 'stop after this long, e.g. 10m')
    .option(
      '--allow-host <host>',
      'allow a target or probe host outside loopback (host, host:port or *.domain); repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--body-limit <size>',
      'keep this much of each request and response body (e.g. 1MiB; default 256KiB); the SHA-256 always covers all of it',
    )
    .option(
      '--max-report-size <size>',
      'stop the run (exit 5) before its history passes this size (default 256MiB), so the run folder stays within it',
    );
}

function packageVersion(): string {
  const text = readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * The command line: a thin layer over the library. Actions throw; `bin.ts` turns what they
 * throw into an exit code.
 */
export function createProgram(
  output: Output,
  setExitCode: (code: number) => void = () => undefined,
): Command {
  const program = new Command()
    .name('idemproof')
    .description(
      'Proves that an HTTP API survives retries: one effect per Idempotency-Key, identical replays, refused key reuse.',
    )
    .version(packageVersion())
    // Throw instead of exiting, for this command and every subcommand added below.
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', examplesHelp(''))
    .addHelpText('after', EXIT_CODES_HELP);

  withSafetyOptions(program.command('run'))
    .description(
      'run scenario files against a target through Toxiproxy fault lanes, check, and report',
    )
    .argument('<scenarios...>', 'scenario files (.yaml, .yml, .ts, .js) or folders of them')
    .option('--target <url>', "override every scenario's target base URL")
    .option(
      '--profile <name|file>',
      `every scenario's profile: ${PROFILE_NAMES.join(', ')} or a profile file (.yaml, .json); the scenario's overrides win`,
    )
    .option('--seed <n>', 'seed of the plan (lanes, generated values); printed in every report')
    .option('--report-dir <dir>', 'folder that receives <run-id>/', 'reports')
    .option(
      '--reporter <list>',
      'comma-separated: terminal,html,junit,json,github (default: terminal,html,junit,json, plus github when GITHUB_ACTIONS=true)',
    )
    .option(
      '--toxiproxy <url>',
      'use this Toxiproxy server (default: TOXIPROXY_URL, then a local binary, then Docker)',
    )
    .option(
      '--shard <i/n>',
      'run every n-th pattern only, as machine i of n; join the folders with `idemproof report merge`',
    )
    .option(REPEAT_FLAGS, REPEAT_HELP)
    .action(async (paths: string[], options: RunCommandOptions) => {
      setExitCode(await runCommand(paths, options, output));
    });

  withSafetyOptions(program.command('explore'))
    .description(
      'generate retry schedules with fast-check, run them for real, and shrink a failure to the smallest schedule',
    )
    .argument('<scenario>', 'a scenario file: its target, key, payload, tenants and effect probe')
    .option('--target <url>', "override the scenario's target base URL")
    .option(
      '--profile <name|file>',
      `the scenario's profile: ${PROFILE_NAMES.join(', ')} or a profile file (.yaml, .json); the scenario's overrides win`,
    )
    .option('--runs <n>', 'schedules to try', '100')
    .option('--time-budget <duration>', 'stop trying new schedules after this long', '60s')
    .option('--seed <n>', 'seed of the generator')
    .option('--path <path>', 'with --seed: replay exactly one counterexample')
    .option('--report-dir <dir>', 'folder that receives <run-id>/ for a counterexample', 'reports')
    .option(
      '--reporter <list>',
      'comma-separated: html,junit,json,github (default: html,junit,json, plus github when GITHUB_ACTIONS=true)',
    )
    .option('--toxiproxy <url>', 'use this Toxiproxy server')
    .action(async (scenario: string, options: ExploreCommandOptions) => {
      setExitCode(await exploreCommand(scenario, options, output));
    });

  program
    .command('report')
    .description(
      "rebuild every report of a run from its folder's run.json and history.jsonl (also after a crash or a kill: exit 6 for a run that did not finish)",
    )
    .argument(
      '<run-dir...>',
      'the run folder, e.g. reports/20261124-061502-3fa9; or `merge` and the folders of every shard (--shard i/n)',
    )
    .option(
      '--reporter <list>',
      'comma-separated: terminal,html,junit,json,github (default: those of the run, plus github when GITHUB_ACTIONS=true)',
    )
    .option('--out <dir>', 'with merge: the merged run folder (default reports/merged-<time>)')
    .action(async (runDirs: string[], options: ReportCommandOptions) => {
      setExitCode(await reportCommand(runDirs, options, output));
    });

  withSafetyOptions(program.command('certify'))
    .description(
      "run a profile's conformance suite against a target and write a certificate in two parts: conformance to the profile's choices, and defects no profile excuses; each requirement holds / violated / unknown, with the evidence",
    )
    .requiredOption(
      '--profile <name|file>',
      `the profile to certify against: ${PROFILE_NAMES.join(', ')} or a profile file (.yaml, .json)`,
    )
    .requiredOption('--target <url>', 'the API under test')
    .option(
      '--scenario <file>',
      "a scenario giving the endpoint, key header, payload, tenants and effect probe (default: the demo's payments scenario)",
    )
    .option('--seed <n>', 'seed of the plan')
    .option('--report-dir <dir>', 'folder that receives <run-id>/ with certificate.html', 'reports')
    .option(
      '--reporter <list>',
      'comma-separated: terminal,html,junit,json,github (default: html,junit,json, plus github when GITHUB_ACTIONS=true)',
    )
    .option(
      '--suggest-profile [file]',
      'also write the profile the target was seen to follow (default: suggested-profile.yaml in the report folder), judged again on the recorded history',
    )
    .option('--toxiproxy <url>', 'use this Toxiproxy server')
    .action(async (options: CertifyCommandOptions) => {
      setExitCode(await certifyCommand(options, output));
    });

  program
    .command('validate')
    .description(
      'check scenario files (and a profile) as `run` would before any traffic (schema, plans, hosts), sending nothing; reports every file',
    )
    .argument('[scenarios...]', 'scenario files (.yaml, .yml, .ts, .js) or folders of them')
    .option(
      '--profile <name|file>',
      `check a profile (${PROFILE_NAMES.join(', ')} or a profile file) and plan the scenarios with it, as run --profile would; alone, checks only the profile`,
    )
    .option(
      '--allow-host <host>',
      'a host outside loopback the scenarios may name, as for run; repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--json',
      'print an array of {file, valid, error?, profile?, scenarios} instead of text (the --profile entry first)',
    )
    .action(async (paths: string[], options: ValidateCommandOptions) => {
      setExitCode(await validateCommand(paths, options, output));
    });

  program
    .command('init')
    .description(
      'write a commented starter scenario for your API (default ./idemproof.yaml) that passes `idemproof validate`',
    )
    .requiredOption('--target <url>', 'base URL of the API under test, e.g. http://127.0.0.1:8080')
    .option('--out <file>', 'where to write it', 'idemproof.yaml')
    .option('--force', 'overwrite the file if it exists')
    .option('--path <path>', 'path of the endpoint under test, e.g. /v1/orders')
    .option('--key-header <name>', 'the idempotency key header, e.g. PayPal-Request-Id')
    .action((options: InitCommandOptions) => initCommand(options, output));

  program
    .command('schema')
    .description('print the JSON Schema of scenario files, or of profile files (for editors)')
    .option('--profile', 'the JSON Schema of profile files (--profile ./acme.yaml) instead')
    .option('--consumer', 'the JSON Schema of consumer scenario files (consumer:) instead')
    .action((options: { profile?: boolean; consumer?: boolean }) => {
      const schema =
        options.profile === true
          ? profileJsonSchema()
          : options.consumer === true
            ? consumerJsonSchema()
            : scenarioJsonSchema();
      output.result(JSON.stringify(schema, null, 2));
    });

  program
    .command('clean')
    .description(
      'remove what idemproof processes that no longer run left behind (after a kill -9): their child servers, temporary folders, proxies and containers; with a run or --all, the proxies on a shared Toxiproxy (only idemproof_ names are touched)',
    )
    .argument(
      '[run]',
      'a run folder (its run.json names the run) or a run id from the proxy names; needs --toxiproxy',
    )
    .option(
      '--toxiproxy <url>',
      'with a run or --all: the Toxiproxy server to clean (default: TOXIPROXY_URL)',
    )
    .option('--all', 'remove every idemproof proxy on that server, of any run')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .action(async (run: string | undefined, options: CleanCommandOptions) => {
      setExitCode(await cleanCommand(run, options, output));
    });

  program
    .command('setup')
    .description('install the Toxiproxy server (go install, into the project-local tools folder)')
    .option(
      '--brokers',
      'also install the brokers demo --consumer starts: Kafka (jars from Maven Central) and RabbitMQ (apt-get, as root)',
    )
    .action((options: { brokers?: boolean }) => setupCommand(options, output));

  program
    .command('demo')
    .description(
      'start PostgreSQL (embedded unless DATABASE_URL), the demo payments API and Toxiproxy, run the built-in suite against them and report; --serve keeps them running instead',
    )
    .option('--serve', 'do not run the suite: print where everything listens and run until Ctrl-C')
    .option(
      '--https',
      'with --serve: serve the demo target over HTTPS, its certificate from a CA made at start (the CA file is printed)',
    )
    .option(
      '--record-arrivals',
      'the demo target records when each keyed request arrived (GET /arrivals?idempotency_key=K)',
    )
    .option('--seed <n>', 'seed of the suite plan')
    .option(REPEAT_FLAGS, REPEAT_HELP)
    .option('--report-dir <dir>', 'folder that receives <run-id>/', 'reports')
    .option(
      '--reporter <list>',
      'comma-separated: terminal,html,junit,json,github (default: terminal,html,junit,json, plus github when GITHUB_ACTIONS=true)',
    )
    .option('--flaw <name>', 'turn on one realistic idempotency mistake in the demo target', 'none')
    .option('--port <port>', 'port of the demo target (0 picks a free one)', '0')
    .option(
      '--store-port <port>',
      'port of the proxy the demo target reaches PostgreSQL through, on 127.0.0.1 (0 picks a free one); scenarios name it with ${IDEMPROOF_DEMO_STORE_LISTEN}',
      '0',
    )
    .option(
      '--process',
      'run the demo target as a child process that crash and cold-start-replay scenarios can kill and restart ($IDEMPROOF_DEMO_KILL, $IDEMPROOF_DEMO_START)',
    )
    .option('--workers <n>', 'with --process: worker processes under node:cluster sharing the port')
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
    .option(
      '--consumer <broker>',
      'test the demo message consumer behind a real broker instead of the API: rabbitmq or kafka (runs scenarios/consumers/<broker>.yaml)',
    )
    .option(
      '--broker-url <url>',
      'with --consumer: use this broker (amqp:// URL or Kafka host:port) instead of starting one',
    )
    .addHelpText('after', DEMO_FLAWS_HELP + CONSUMER_FLAWS_HELP)
    .action(async (options: DemoCommandOptions) => {
      setExitCode(await demoCommand(options, output));
    });

  return addCommandExamples(program);
}
