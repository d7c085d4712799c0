import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportContext } from '../../../src/report/types.js';

/** A temporary report folder and a context that records what reporters print. */
export interface TestContext {
  readonly context: ReportContext;
  readonly out: string[];
  readonly err: string[];
  readonly dir: string;
  remove(): void;
}

export function testContext(interactive = false): TestContext {
  const dir = mkdtempSync(join(tmpdir(), 'idemproof-report-'));
  const out: string[] = [];
  const err: string[] = [];
  return {
    context: {
      reportDir: join(dir, 'run'),
      out: (text) => void out.push(text),
      err: (text) => void err.push(text),
      interactive,
    },
    out,
    err,
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
