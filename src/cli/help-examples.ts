import type { Command } from 'commander';

/**
 * Copy-pasteable examples for `--help`, per command (the key `''` is the program itself).
 * Every command needs an entry: a unit test fails on one whose help has no examples.
 */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': [
    '# write a starter scenario for your API, check it, then run it',
    'idemproof init --target http://127.0.0.1:8080',
    'idemproof validate idemproof.yaml',
    'idemproof run idemproof.yaml',
    '# see it catch a broken API: the demo with one flaw turned on',
    'idemproof demo --flaw check-then-insert',
  ],
  run: [
    '# every scenario in a folder, against a local API',
    'idemproof run scenarios/ --target http://127.0.0.1:8080',
    '# replay a run exactly (the seed is printed in every report)',
    'idemproof run my-api.yaml --seed 42',
    '# against staging, gently, with only the JUnit and JSON reports',
    'idemproof run my-api.yaml --target http://staging.example.com --allow-host staging.example.com --max-rps 20 --reporter junit,json',
    '# machine 2 of 3 in CI; join the folders with `idemproof report merge`',
    'idemproof run scenarios/ --shard 2/3 --seed 42 --report-dir reports/shard-2',
  ],
  explore: [
    '# try 100 generated retry schedules for at most a minute',
    'idemproof explore my-api.yaml --target http://127.0.0.1:8080 --runs 100 --time-budget 60s',
    '# replay one counterexample (the command is printed when one is found)',
    'idemproof explore my-api.yaml --seed 42 --path 1:0:1:1:1:2 --target http://127.0.0.1:8080',
  ],
  report: [
    '# rebuild every report of a run, also after a crash',
    'idemproof report reports/20261124-061502-3fa9',
    '# only the HTML page and a terminal summary',
    'idemproof report reports/20261124-061502-3fa9 --reporter html,terminal',
    '# join the folders of --shard 1/2 and 2/2',
    'idemproof report merge reports/shard-1/* reports/shard-2/* --out reports/merged',
  ],
  certify: [
    '# certify the demo target against the default profile (with `idemproof demo --serve` running)',
    'idemproof certify --profile default --target http://127.0.0.1:3000',
    "# an adapter against the IETF draft, with your scenario's endpoint and effect probe",
    'idemproof certify --profile ietf --target http://127.0.0.1:8080 --scenario my-api.yaml',
    '# against a profile file (422, keys optional, no replay marker): see profiles/',
    'idemproof certify --profile profiles/powertools.yaml --target http://127.0.0.1:8080 --scenario my-api.yaml',
    '# a target whose choices differ from the profile: write the profile it follows',
    'idemproof certify --profile ietf --target http://127.0.0.1:8080 --scenario my-api.yaml --suggest-profile acme.yaml',
  ],
  validate: [
    '# check scenario files and folders without sending anything',
    'idemproof validate idemproof.yaml scenarios/',
    '# machine-readable, e.g. for a pre-commit hook',
    'idemproof validate scenarios/ --json',
    '# a scenario whose target is outside loopback (as `run --allow-host` would)',
    'idemproof validate staging.yaml --allow-host staging.example.com',
    '# a profile file alone (what it resolves to), then the scenarios planned with it',
    'idemproof validate --profile profiles/powertools.yaml',
    'idemproof validate scenarios/ --profile profiles/powertools.yaml',
  ],
  init: [
    '# a starter scenario for a local API, in ./idemproof.yaml',
    'idemproof init --target http://127.0.0.1:8080',
    '# for a staging host (listed under allowHosts), its endpoint and key header',
    'idemproof init --target http://staging.example.com --path /v1/payments --key-header PayPal-Request-Id --out scenarios/payments.yaml',
  ],
  schema: [
    '# the JSON Schema of scenario files, for an editor or a CI check',
    'idemproof schema > scenario.schema.json',
  ],
  setup: ['# build toxiproxy-server into the tools folder (needs Go)', 'idemproof setup'],
  clean: [
    '# remove what a killed run left on the shared Toxiproxy (see first with --dry-run)',
    'idemproof clean reports/20261124-061502-3fa9 --toxiproxy http://staging-toxiproxy:8474 --dry-run',
    'idemproof clean reports/20261124-061502-3fa9 --toxiproxy http://staging-toxiproxy:8474',
    '# every idemproof proxy on a server, of any run',
    'idemproof clean --all --toxiproxy http://127.0.0.1:8474',
  ],
  demo: [
    '# the built-in suite against the demo payments API; exit 0',
    'idemproof demo',
    '# watch it catch a broken API: exit 1, with the violations',
    'idemproof demo --flaw check-then-insert',
    '# keep the demo stack running for your own experiments',
    'idemproof demo --serve',
  ],
};

/** The "Examples:" block of one command's help, or nothing for a command without examples. */
export function examplesHelp(name: string): string {
  const lines = HELP_EXAMPLES[name];
  return lines === undefined ? '' : `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/** Adds the examples to the help of each of the program's commands. */
export function addCommandExamples(program: Command): Command {
  for (const command of program.commands) {
    const help = examplesHelp(command.name());
    if (help !== '') command.addHelpText('after', help);
  }
  return program;
}
