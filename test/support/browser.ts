import { chromium, type Browser } from 'playwright-core';
import { findChromium } from './ensure-chromium.mjs';

/**
 * Headless Chromium for tests, driven by playwright-core: the browser found by
 * ensure-chromium.mjs (which `npm test` runs first, installing Debian's package if need be).
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === null) {
    throw new Error(
      'No Chromium for the browser tests: run `node test/support/ensure-chromium.mjs` (npm test ' +
        'runs it) or set CHROMIUM_PATH.',
    );
  }
  // Chromium refuses its sandbox as root (as in CI); elsewhere it keeps it.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath, headless: true, args });
}
