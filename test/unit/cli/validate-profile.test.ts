import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../../src/cli/exit-codes.js';
import type { Output } from '../../../src/cli/output.js';
import { validateCommand, type FileValidation } from '../../../src/cli/validate-command.js';
import { isIdemproofError } from '../../../src/errors.js';

const PROFILE = `name: acme
extends: default
mismatchStatus: [418]
retentionMs: 3000
`;

const SCENARIO = `name: delayed
target: { baseUrl: http://127.0.0.1:8080, path: /orders }
payload: { template: { sku: 'A-{{marker}}' } }
effects: { http: { url: '/orders?key={{key}}', count: $.count } }
patterns:
  - kind: delayed-retries
    delaysMs: [1000, 5000]
`;

function captured(): Output & { readonly lines: string[] } {
  const lines: string[] = [];
  const push = (text: string): void => {
    lines.push(text);
  };
  return { lines, result: push, info: push, error: push };
}

let folder: string;
/** The scenarios' folder (the profile files sit next to it, not in it). */
let scenarios: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'idemproof-validate-profile-'));
  scenarios = join(folder, 'scenarios');
  mkdirSync(scenarios);
  writeFileSync(join(folder, 'acme.yaml'), PROFILE);
  writeFileSync(join(folder, 'bad.yaml'), 'name: bad\nextends: ietf\nmismatchStatus: [99]\n');
  writeFileSync(join(scenarios, 'delayed.yaml'), SCENARIO);
});
afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('idemproof validate --profile', () => {
  it('alone, checks the profile file and prints what it resolved', async () => {
    const output = captured();
    const code = await validateCommand([], { profile: join(folder, 'acme.yaml') }, output);
    const text = output.lines.join('\n');
    expect(code).toBe(EXIT_CODES.ok);
    expect(text).toMatch(/^✓ \S*acme\.yaml$/m);
    expect(text).toContain("profile 'acme' (");
    expect(text).toContain('mismatch 418, in flight 409, missing key refused with 400');
    expect(text).toContain(`sha256 ${createHash('sha256').update(PROFILE).digest('hex')}`);
    expect(text).toMatch(/^1 file valid$/m);
  });

  it('an invalid profile file: exit 2 with its file:line:col, and no scenario checked', async () => {
    const output = captured();
    const code = await validateCommand([scenarios], { profile: join(folder, 'bad.yaml') }, output);
    const text = output.lines.join('\n');
    expect(code).toBe(EXIT_CODES.usage);
    expect(text).toMatch(/^✗ \S*bad\.yaml$/m);
    expect(text).toMatch(/bad\.yaml:3:18 at mismatchStatus\[0\]/);
    expect(text).not.toContain('delayed.yaml');
    expect(text).toMatch(/^1 of 1 file invalid$/m);
  });

  it('plans the scenarios with the profile: its retention leaves a retry out', async () => {
    const withProfile = captured();
    expect(
      await validateCommand(
        [scenarios],
        { profile: join(folder, 'acme.yaml'), json: true },
        withProfile,
      ),
    ).toBe(EXIT_CODES.ok);
    const results = JSON.parse(withProfile.lines.join('\n')) as FileValidation[];
    expect(results).toHaveLength(2);
    expect(results[0]?.profile).toMatchObject({ name: 'acme', mismatchStatus: [418] });
    expect(Object.keys(results[0]?.profile ?? {}).slice(0, 3)).toEqual([
      'name',
      'source',
      'sha256',
    ]);
    expect(results[1]?.scenarios[0]?.notes.join('\n')).toContain(
      'after the declared retention of 3000 ms',
    );

    const without = captured();
    await validateCommand([scenarios], { json: true }, without);
    const plain = JSON.parse(without.lines.join('\n')) as FileValidation[];
    expect(plain).toHaveLength(1);
    expect(plain[0]?.scenarios[0]?.notes).toEqual([]);
  });

  it('takes a built-in name, and refuses an unknown one', async () => {
    const stripe = captured();
    expect(await validateCommand([], { profile: 'stripe' }, stripe)).toBe(EXIT_CODES.ok);
    expect(stripe.lines.join('\n')).toContain("profile 'stripe' (built-in): mismatch 400");
    const unknown = captured();
    expect(await validateCommand([], { profile: 'paypal' }, unknown)).toBe(EXIT_CODES.usage);
    expect(unknown.lines.join('\n')).toContain("unknown profile 'paypal'");
  });

  it('needs scenarios or a profile', async () => {
    const error: unknown = await validateCommand([], {}, captured()).catch(
      (caught: unknown) => caught,
    );
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_USAGE');
  });
});
