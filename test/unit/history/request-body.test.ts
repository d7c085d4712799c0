import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InvokeEvent, OkEvent } from '../../../src/history/events.js';
import { HistoryRecorder } from '../../../src/history/recorder.js';
import { Redactor } from '../../../src/history/redact.js';
import { boundRequestBody } from '../../../src/history/request-body.js';

type NewInvoke = Omit<InvokeEvent, 'index' | 'time'>;

function invoke(op: string, body: string | null): NewInvoke {
  return {
    type: 'invoke',
    scenario: 's',
    op,
    pattern: 'p#1',
    patternKind: 'sequential-duplicates',
    label: 'original',
    key: 'k',
    keySent: true,
    tenant: null,
    variant: 'original',
    marker: 'm',
    lane: 'clean',
    group: null,
    resource: null,
    sequence: null,
    request: {
      method: 'POST',
      url: 'http://127.0.0.1/x',
      targetUrl: 'http://127.0.0.1/x',
      headers: [],
      body,
    },
    timeoutMs: 1000,
  };
}

function ok(op: string, body: string): Omit<OkEvent, 'index' | 'time'> {
  return {
    type: 'ok',
    scenario: 's',
    op,
    durationMs: 1,
    response: {
      status: 200,
      headers: [],
      body,
      bodyBytes: Buffer.byteLength(body),
      bodySha256: createHash('sha256').update(body).digest('hex'),
      bodyTruncated: false,
    },
  };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('request bodies in the history', () => {
  it('keeps a body within the limit as it is, with no extra fields', () => {
    const request = invoke('a', 'x'.repeat(1000)).request;
    expect(boundRequestBody(request, request, 1000)).toBe(request);
  });

  it('cuts a longer body to its first bytes and keeps the size and SHA-256 of what was sent', () => {
    const sent = invoke('a', `{"card":"4242","pad":"${'é'.repeat(5000)}"}`).request;
    const redacted = { ...sent, body: (sent.body ?? '').replace('4242', '[REDACTED]') };
    const bounded = boundRequestBody(redacted, sent, 1024);
    expect(Buffer.byteLength(bounded.body ?? '')).toBeLessThanOrEqual(1024 + 3);
    expect(bounded.body?.startsWith('{"card":"[REDACTED]"')).toBe(true);
    expect(bounded.bodyTruncated).toBe(true);
    expect(bounded.bodyBytes).toBe(Buffer.byteLength(sent.body ?? ''));
    expect(bounded.bodySha256).toBe(sha256(sent.body ?? ''));
  });

  it('redacts listed JSON fields of the whole body before cutting it', () => {
    const recorder = new HistoryRecorder(undefined, {
      redactor: new Redactor({ headers: [], jsonFields: ['secret'] }),
      requestBodyLimit: 2048,
    });
    const body = JSON.stringify({ pad: 'p'.repeat(4000), secret: 'hunter2-very-secret' });
    const recorded = recorder.append(invoke('a', body));
    expect(recorded.request.body).not.toContain('hunter2');
    expect(recorded.request.bodyTruncated).toBe(true);
    expect(recorded.request.bodySha256).toBe(sha256(body));
  });
});

describe('the history budget', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-budget-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('asks once to stop at 90 % of the budget, and later events keep only the start of their bodies', async () => {
    const file = join(folder, 'history.jsonl');
    const stops: string[] = [];
    const budget = 1024 * 1024;
    const recorder = new HistoryRecorder(file, {
      budgetBytes: budget,
      onBudget: (detail) => stops.push(detail),
    });
    const big = 'b'.repeat(100 * 1024);
    let index = 0;
    while (stops.length === 0 && index < 100) {
      recorder.append(invoke(`op${index}`, big));
      recorder.append(ok(`op${index}`, big));
      index += 1;
    }
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatch(/budget \(--max-report-size\)/);
    // What is still in flight when the run stops completes within the budget.
    for (let late = 0; late < 10; late += 1) {
      recorder.append(invoke(`late${late}`, big));
      recorder.append(ok(`late${late}`, big));
    }
    await recorder.close();
    expect(stops).toHaveLength(1);
    expect((await stat(file)).size).toBeLessThanOrEqual(budget);
    const lastOk = recorder.events.at(-1) as OkEvent;
    expect(lastOk.response.body.length).toBe(4096);
    expect(lastOk.response.bodyTruncated).toBe(true);
    expect(lastOk.response.bodySha256).toBe(sha256(big));
    const written = (await readFile(file, 'utf8')).trim().split('\n');
    expect(written).toHaveLength(recorder.events.length);
  });
});
