import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import {
  HttpProblem,
  idempotencyKeyOf,
  readJsonBody,
  tenantOf,
} from '../../../src/demo/http-io.js';
import { parseFlaw, FLAW_NAMES } from '../../../src/demo/flaws.js';
import { isIdemproofError } from '../../../src/errors.js';

const withHeaders = (headers: Record<string, string>): IncomingMessage =>
  ({ headers }) as unknown as IncomingMessage;

function problemOf(action: () => unknown): HttpProblem | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return error instanceof HttpProblem ? error : undefined;
  }
}

describe('demo target request parsing', () => {
  it('reads the key bare or as an RFC 8941 string', () => {
    expect(idempotencyKeyOf(withHeaders({ 'idempotency-key': 'abc-1' }))).toBe('abc-1');
    expect(idempotencyKeyOf(withHeaders({ 'idempotency-key': '"abc-1"' }))).toBe('abc-1');
    expect(idempotencyKeyOf(withHeaders({}))).toBeUndefined();
  });

  it('refuses empty, over-long and non-printable keys with 400', () => {
    for (const key of ['', '""', 'x'.repeat(256), 'a\u0001b']) {
      expect(
        problemOf(() => idempotencyKeyOf(withHeaders({ 'idempotency-key': key })))?.status,
      ).toBe(400);
    }
    expect(idempotencyKeyOf(withHeaders({ 'idempotency-key': 'x'.repeat(255) }))).toHaveLength(255);
  });

  it('takes the tenant from a bearer token, public without one, 401 when malformed', () => {
    expect(tenantOf(withHeaders({}))).toBe('public');
    expect(tenantOf(withHeaders({ authorization: 'Bearer acme-eu' }))).toBe('acme-eu');
    expect(problemOf(() => tenantOf(withHeaders({ authorization: 'Basic abc' })))?.status).toBe(
      401,
    );
    expect(problemOf(() => tenantOf(withHeaders({ authorization: 'Bearer a/b' })))?.status).toBe(
      401,
    );
  });

  it('knows its flaws by name and refuses others as a usage error', () => {
    expect(parseFlaw(undefined)).toBe('none');
    for (const flaw of FLAW_NAMES) expect(parseFlaw(flaw)).toBe(flaw);
    let caught: unknown;
    try {
      parseFlaw('no-such-flaw');
    } catch (error) {
      caught = error;
    }
    expect(isIdemproofError(caught) && caught.category).toBe('usage');
    expect((caught as Error).message).toContain('check-then-insert');
  });

  it('reads a JSON body in pieces, an empty one as undefined, and refuses bad ones', async () => {
    const body = (...chunks: string[]): IncomingMessage => {
      const stream = new PassThrough();
      for (const chunk of chunks) stream.write(chunk);
      stream.end();
      return stream as unknown as IncomingMessage;
    };
    await expect(readJsonBody(body('{"amount":', '1000}'))).resolves.toEqual({ amount: 1000 });
    await expect(readJsonBody(body())).resolves.toBeUndefined();
    await expect(readJsonBody(body('{"amount":'))).rejects.toMatchObject({ status: 400 });
    await expect(readJsonBody(body('x'.repeat(1024 * 1024 + 1)))).rejects.toMatchObject({
      status: 413,
    });
  });

  it('rejects when the client goes away before the body is complete', async () => {
    const stream = new PassThrough();
    stream.write('{"amount":');
    const reading = readJsonBody(stream as unknown as IncomingMessage);
    stream.destroy();
    await expect(reading).rejects.toThrow(/closed the connection/);
  });
});
