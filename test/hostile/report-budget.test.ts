import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exitCodeOf } from '../../src/cli/run-command.js';
import type { InvokeEvent } from '../../src/history/events.js';
import { runSuite, type RunOutcome } from '../../src/run/run.js';

/**
 * The run folder has a budget: request bodies are kept as a prefix with the size and SHA-256
 * of what was sent (as responses are), and a run whose history reaches --max-report-size
 * stops as at a limit (exit 5) with its folder within the budget.
 */

/**
 * POST answers 201 with a body of `answerBytes`, the same body again for a key it has seen;
 * GET (the effect probe) answers one effect.
 */
async function startTarget(answerBytes: number): Promise<{ url: string; server: Server }> {
  const answers = new Map<string, string>();
  const server = createServer((request, response) => {
    if (request.method === 'GET') {
      response.setHeader('content-type', 'application/json');
      response.end('{"count":1}');
      return;
    }
    request.resume();
    request.on('end', () => {
      const key = String(request.headers['idempotency-key']);
      const answer =
        answers.get(key) ?? JSON.stringify({ id: answers.size + 1, pad: 'p'.repeat(answerBytes) });
      answers.set(key, answer);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function folderBytes(folder: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(folder)) total += (await stat(join(folder, name))).size;
  return total;
}

const REQUEST_PAD = 'r'.repeat(600 * 1024);

function scenario(count: number): string {
  return `name: budget
target: { baseUrl: http://127.0.0.1:1, path: /things, timeoutMs: 5000 }
payload: { template: { note: 'n-{{marker}}', pad: '${REQUEST_PAD}' } }
effects: { http: { url: '/things?key={{key}}', count: $.count } }
settleMs: 0
patterns:
  - { kind: sequential-duplicates, count: ${count} }
`;
}

describe('the run folder stays within its budget', () => {
  let folder: string;
  let target: { url: string; server: Server };
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-budget-'));
    target = await startTarget(200 * 1024);
  });
  afterAll(async () => {
    await new Promise((resolve) => target.server.close(resolve));
    await rm(folder, { recursive: true, force: true });
  });

  async function run(
    file: string,
    count: number,
    maxReportBytes?: number,
  ): Promise<RunOutcome & { dir: string }> {
    await writeFile(join(folder, file), scenario(count));
    const reportDir = join(folder, file.replace('.yaml', ''));
    const outcome = await runSuite({
      paths: [join(folder, file)],
      target: target.url,
      toxiproxyUrl: inject('toxiproxyUrl'),
      reportDir,
      reporters: ['json', 'html', 'junit'],
      maxReportBytes,
      out: () => undefined,
      err: () => undefined,
      interactive: false,
    });
    const [runId] = await readdir(reportDir);
    return { ...outcome, dir: join(reportDir, runId ?? '') };
  }

  it('keeps the start of each request body with the size and SHA-256 of the whole', async () => {
    const outcome = await run('bodies.yaml', 6);
    const invokes = outcome.history.filter(
      (event): event is InvokeEvent => event.type === 'invoke',
    );
    expect(invokes.length).toBeGreaterThanOrEqual(6);
    for (const invoke of invokes) {
      const sent = JSON.stringify({ note: `n-${invoke.marker}`, pad: REQUEST_PAD });
      expect(Buffer.byteLength(invoke.request.body ?? '')).toBe(256 * 1024);
      expect(invoke.request.bodyTruncated).toBe(true);
      expect(invoke.request.bodyBytes).toBe(Buffer.byteLength(sent));
      expect(invoke.request.bodySha256).toBe(createHash('sha256').update(sent).digest('hex'));
    }
    // In the file too: no line carries a whole 600 KiB body.
    const lines = (await readFile(join(outcome.dir, 'history.jsonl'), 'utf8')).split('\n');
    for (const line of lines) expect(line.length).toBeLessThan(520 * 1024);
    expect(exitCodeOf(outcome)).toBe(0);
  });

  it('stops at --max-report-size (exit 5) with every report written and the folder within it', async () => {
    const budget = 4 * 1024 * 1024;
    const outcome = await run('capped.yaml', 60, budget);
    expect(outcome.result.stopped).toMatchObject({ kind: 'limit', limit: 'max-report-size' });
    expect(exitCodeOf(outcome)).toBe(5);
    const history = (await stat(join(outcome.dir, 'history.jsonl'))).size;
    expect(history).toBeLessThanOrEqual(budget);
    // The reports derived from the history add a bounded share of it.
    expect(await folderBytes(outcome.dir)).toBeLessThanOrEqual(budget * 1.5);
    const names = (await readdir(outcome.dir)).sort();
    expect(names).toEqual(['history.jsonl', 'index.html', 'junit.xml', 'results.json', 'run.json']);
  });
});
