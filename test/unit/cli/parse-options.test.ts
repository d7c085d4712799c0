import { describe, expect, it } from 'vitest';
import { exitCodeForCategory } from '../../../src/cli/exit-codes.js';
import {
  MAX_SEED,
  parseDuration,
  parseRepeat,
  parseSeed,
  parseWholeNumber,
} from '../../../src/cli/parse-options.js';
import { ERROR_CODES } from '../../../src/errors.js';
import { checkedRepeat } from '../../../src/run/run.js';

describe('command-line option parsing', () => {
  it('reads durations with units, bare numbers as seconds', () => {
    expect(parseDuration('--x', '250ms')).toBe(250);
    expect(parseDuration('--x', '30s')).toBe(30_000);
    expect(parseDuration('--x', '1.5')).toBe(1500);
    expect(parseDuration('--x', '5m')).toBe(300_000);
    expect(parseDuration('--x', '2h')).toBe(7_200_000);
  });

  it('names the option in its errors', () => {
    expect(() => parseDuration('--stop-after', 'soon')).toThrow(
      /--stop-after 'soon' is not a duration/,
    );
    expect(() => parseWholeNumber('--port', '70000', 0, 65535)).toThrow(
      /--port '70000' is not a whole number from 0 to 65535/,
    );
    expect(() => parseWholeNumber('--port', '-1', 0, 65535)).toThrow(/--port/);
    expect(parseWholeNumber('--port', '8080', 0, 65535)).toBe(8080);
  });

  it('accepts the same seeds in every command: 0 to 2^31 - 1', () => {
    expect(parseSeed(undefined)).toBeUndefined();
    expect(parseSeed('0')).toBe(0);
    expect(parseSeed(String(MAX_SEED))).toBe(2 ** 31 - 1);
    expect(() => parseSeed(String(2 ** 31))).toThrow(
      /--seed '2147483648' is not a whole number from 0 to 2147483647/,
    );
  });

  it('bounds --repeat to 1 … 100 repetitions', () => {
    expect(parseRepeat(undefined)).toBeUndefined();
    expect(parseRepeat('1')).toBe(1);
    expect(parseRepeat('100')).toBe(100);
    expect(() => parseRepeat('101')).toThrow(/--repeat '101' is not a whole number from 1 to 100/);
    expect(() => parseRepeat('0')).toThrow(/--repeat '0'/);
    expect(() => checkedRepeat(2.5)).toThrow(/--repeat must be a whole number from 1 to 100/);
    expect(checkedRepeat(undefined)).toBe(1);
  });

  it('maps every error category to its documented exit code', () => {
    const byCode = Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, category]) => [code, exitCodeForCategory(category)]),
    );
    expect(byCode.IDEMPROOF_ERR_USAGE).toBe(2);
    expect(byCode.IDEMPROOF_ERR_SCENARIO).toBe(2);
    expect(byCode.IDEMPROOF_ERR_TOXIPROXY_UNAVAILABLE).toBe(3);
    expect(byCode.IDEMPROOF_ERR_POSTGRES_UNAVAILABLE).toBe(3);
    expect(byCode.IDEMPROOF_ERR_TARGET_UNREACHABLE).toBe(3);
    expect(byCode.IDEMPROOF_ERR_INTERNAL).toBe(4);
  });
});
