import { IdemproofError } from '../errors.js';

/** A whole number option within [min, max]; the error names the option. */
export function parseWholeNumber(option: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (
    !/^\d+$/.test(value.trim()) ||
    !Number.isSafeInteger(number) ||
    number < min ||
    number > max
  ) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${option} '${value}' is not a whole number from ${min} to ${max}`,
    );
  }
  return number;
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as `250ms`, `30s`, `5m`, `2h`, or a bare number of seconds; in ms. */
export function parseDuration(option: string, value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  const amount = match?.[1];
  if (amount === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${option} '${value}' is not a duration (expected e.g. 250ms, 30s, 5m, 2h)`,
    );
  }
  return Math.round(Number(amount) * (UNITS_MS[match?.[2] ?? 's'] ?? 1000));
}

/** Seeds are whole numbers from 0 to 2^31 - 1, which fast-check and the plan accept alike. */
export const MAX_SEED = 2 ** 31 - 1;

/** `--seed`, or undefined when not given (a random seed is drawn and printed). */
export function parseSeed(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseWholeNumber('--seed', value, 0, MAX_SEED);
}
