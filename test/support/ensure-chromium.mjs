#!/usr/bin/env node
// Makes a Chromium available for the browser tests (test/integration/report/browser.test.ts),
// which drive it with playwright-core: Playwright's own browser downloads are not used.
//
// Plain JavaScript, so it runs before anything is compiled: `npm test` runs it (pretest) and so
// does .ci/run. It looks for CHROMIUM_PATH, then the usual install paths; when none is there and
// this is Debian or Ubuntu as root, it installs Debian's `chromium` package with apt-get.
// Otherwise it exits 1 and says how to install one. test/support/browser.ts imports
// `findChromium` from here, so both agree on which browser runs.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

const INSTALL = ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium to drive: CHROMIUM_PATH when set (it must be executable), else the first
 * candidate path that is executable, else null.
 */
export function findChromium(env = process.env) {
  const chosen = env.CHROMIUM_PATH;
  if (chosen !== undefined && chosen !== '') {
    if (!executable(chosen)) throw new Error(`CHROMIUM_PATH=${chosen} is not an executable file`);
    return chosen;
  }
  return CHROMIUM_CANDIDATES.find(executable) ?? null;
}

function onPath(command) {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((folder) => folder !== '' && executable(join(folder, command)));
}

function say(line) {
  process.stdout.write(`ensure-chromium: ${line}\n`);
}

function run(argv) {
  say(`running: ${argv.join(' ')}`);
  const result = spawnSync(argv[0], argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${argv.join(' ')} exited with ${result.status ?? result.signal}`);
  }
}

function version(path) {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return (result.stdout ?? '').trim() || 'version unknown';
}

const HOW_TO =
  'Install Chromium and run again: on Debian or Ubuntu `apt-get update && apt-get install -y ' +
  'chromium` as root; elsewhere install Chromium or Chrome and set CHROMIUM_PATH to its ' +
  'executable.';

export function ensureChromium() {
  let found = findChromium();
  if (found === null) {
    const root = process.getuid?.() === 0;
    if (!onPath('apt-get') || !root) {
      throw new Error(
        `no Chromium found (CHROMIUM_PATH is not set; looked at ${CHROMIUM_CANDIDATES.join(', ')})` +
          `${onPath('apt-get') ? ' and not root, so apt-get cannot install it' : ''}. ${HOW_TO}`,
      );
    }
    say("no Chromium found; installing Debian's chromium package with apt-get");
    run(['apt-get', 'update']);
    run(INSTALL);
    found = findChromium();
    if (found === null) throw new Error(`${INSTALL.join(' ')} left no Chromium. ${HOW_TO}`);
  }
  say(`using ${found} (${version(found)})`);
  return found;
}

function isMain() {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === fileURLToPath(import.meta.url);
}

if (isMain()) {
  try {
    ensureChromium();
  } catch (error) {
    process.stderr.write(`ensure-chromium: ${error instanceof Error ? error.message : error}\n`);
    process.exitCode = 1;
  }
}
