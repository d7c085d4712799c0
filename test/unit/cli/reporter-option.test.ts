import { describe, expect, it } from 'vitest';
import { EXIT_CODES, EXIT_CODES_HELP } from '../../../src/cli/exit-codes.js';
import { parseReporters, reporterOption } from '../../../src/cli/reporter-option.js';

describe('one reporter rule for every command', () => {
  const actions = { GITHUB_ACTIONS: 'true' };

  it('adds github to the defaults inside GitHub Actions, and only there', () => {
    expect(reporterOption(undefined, ['terminal', 'json'], actions)).toEqual([
      'terminal',
      'json',
      'github',
    ]);
    expect(reporterOption(undefined, ['terminal', 'json'], {})).toBeUndefined();
    expect(reporterOption(undefined, ['terminal'], { GITHUB_ACTIONS: 'false' })).toBeUndefined();
    // A run that already reported to GitHub is not given it twice.
    expect(reporterOption(undefined, ['json', 'github'], actions)).toBeUndefined();
  });

  it('keeps a list the user gave as it is, and refuses unknown names', () => {
    expect(reporterOption('html,junit', [], actions)).toEqual(['html', 'junit']);
    expect(() => reporterOption('gitlab', [], actions)).toThrow(/expected a comma-separated list/);
    expect(() => parseReporters(' , ')).toThrow(/expected a comma-separated list/);
  });
});

describe('exit codes', () => {
  it('are distinct, and every one is documented in --help', () => {
    const codes = Object.values(EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(EXIT_CODES_HELP).toMatch(new RegExp(`(^|\\s)${code}\\s`, 'm'));
  });

  it('give a run that did not finish its own code, apart from an internal error', () => {
    expect(EXIT_CODES.unfinished).toBe(6);
    expect(EXIT_CODES.unfinished).not.toBe(EXIT_CODES.internal);
  });
});
