import { IdemproofError } from '../errors.js';
import { MAX_REPEAT } from '../plan/repeat.js';
import type { TrafficLimits } from '../run/gate.js';
import type { BlastRadiusOptions } from '../run/run.js';

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

/** `--repeat N`: how many times the plan runs, 1 to MAX_REPEAT. */
export const REPEAT_FLAGS = '--repeat <n>';
export const REPEAT_HELP = `run the plan n times (1 to ${MAX_REPEAT}), each with fresh keys; defects are reported with how often they reproduced`;

export function parseRepeat(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseWholeNumber('--repeat', value, 1, MAX_REPEAT);
}

/** The blast-radius options shared by `run` and `explore`. */
export interface SafetyOptions {
  readonly maxRps?: string;
  readonly maxRequests?: string;
  readonly maxDuration?: string;
  readonly allowHost?: readonly string[];
  readonly bodyLimit?: string;
  readonly maxReportSize?: string;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A size such as `65536`, `256KiB` or `4MiB` (k and M are powers of 1024); in bytes. */
export function parseSize(option: string, value: string, min: number, max: number): number {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match?.[1] === undefined || unit === undefined ? NaN : Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < min || bytes > max) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${option} '${value}' is not a size from ${min} bytes to ${max / 1024 ** 2} MiB (e.g. 256KiB, 4MiB)`,
    );
  }
  return bytes;
}

/** `--max-report-size`: bytes the run's history may take before the run stops. */
export function parseReportSize(options: SafetyOptions): number | undefined {
  return options.maxReportSize === undefined
    ? undefined
    : parseSize('--max-report-size', options.maxReportSize, 1024 ** 2, 1024 ** 4);
}

/** `--body-limit`: bytes of each request and response body kept in the history and reports. */
export function parseBodyLimit(options: SafetyOptions): number | undefined {
  return options.bodyLimit === undefined
    ? undefined
    : parseSize('--body-limit', options.bodyLimit, 1024, 1024 ** 3);
}

/** A positive number of requests per second, fractions allowed (0.5 = one every 2 s). */
function parseRate(option: string, value: string): number {
  const number = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !(number > 0) || number > 100_000) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${option} '${value}' is not a rate from 0.001 to 100000 requests per second`,
    );
  }
  return number;
}

export function parseLimits(options: SafetyOptions): TrafficLimits {
  return {
    maxRps: options.maxRps === undefined ? undefined : parseRate('--max-rps', options.maxRps),
    maxRequests:
      options.maxRequests === undefined
        ? undefined
        : parseWholeNumber('--max-requests', options.maxRequests, 1, 1_000_000_000),
    maxDurationMs:
      options.maxDuration === undefined
        ? undefined
        : Math.max(1, parseDuration('--max-duration', options.maxDuration)),
  };
}

/** The blast-radius options of run, explore and certify, parsed once for all three. */
export function parseSafety(options: SafetyOptions): BlastRadiusOptions {
  return {
    limits: parseLimits(options),
    allowHosts: options.allowHost,
    bodyLimit: parseBodyLimit(options),
    maxReportBytes: parseReportSize(options),
  };
}
