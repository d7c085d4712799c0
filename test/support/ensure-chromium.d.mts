/** Types for ensure-chromium.mjs (plain JavaScript, so it runs before the build). */

/** The paths tried, in order, when CHROMIUM_PATH is not set. */
export declare const CHROMIUM_CANDIDATES: readonly string[];

/** CHROMIUM_PATH (must be executable), else the first executable candidate, else null. */
export declare function findChromium(env?: NodeJS.ProcessEnv): string | null;

/** Finds Chromium, installing Debian's package with apt-get as root when none is found. */
export declare function ensureChromium(): string;
