import type { IncomingMessage, ServerResponse } from 'node:http';

/** A response as the demo target stores and replays it: status, headers, exact body bytes. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${status} ${title}: ${detail}`);
  }
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Reads and parses a JSON request body (see `readRawBody`); an empty body is `undefined`. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  return parseJson((await readRawBody(request)).toString('utf8'));
}

/**
 * Reads a request body's bytes, at most MAX_BODY_BYTES (413 past that). Event listeners rather
 * than an async iterator: the body completes in the same turn as the socket read that
 * finished it, which keeps the per-request cost (and the arrival times the demo records) low.
 */
export function readRawBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => Buffer): void => {
      if (settled) return;
      settled = true;
      try {
        resolve(outcome());
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    request.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        settle(() => {
          throw new HttpProblem(
            413,
            'Request body too large',
            `the limit is ${MAX_BODY_BYTES} bytes`,
          );
        });
      } else chunks.push(chunk);
    });
    request.once('end', () => settle(() => Buffer.concat(chunks)));
    request.once('error', (error) =>
      settle(() => {
        throw error;
      }),
    );
    request.once('close', () =>
      settle(() => {
        throw new Error('the client closed the connection before the body was complete');
      }),
    );
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpProblem(400, 'Malformed JSON', 'the request body is not valid JSON');
  }
}

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): StoredResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}

/** An RFC 9457 problem response. */
export function problemResponse(problem: HttpProblem): StoredResponse {
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...problem.headers },
    body: JSON.stringify({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
    }),
  };
}

export function send(
  response: ServerResponse,
  stored: StoredResponse,
  extraHeaders: Record<string, string> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  const body = Buffer.from(stored.body, 'utf8');
  response.writeHead(stored.status, {
    ...stored.headers,
    ...extraHeaders,
    'content-length': String(body.length),
  });
  response.end(body);
}

const TENANT = /^[A-Za-z0-9._-]{1,64}$/;

/** `Authorization: Bearer <tenant>` scopes data; without it, the tenant is `public`. */
export function tenantOf(request: IncomingMessage): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return 'public';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const tenant = match?.[1];
  if (tenant === undefined || !TENANT.test(tenant)) {
    throw new HttpProblem(
      401,
      'Bad Authorization header',
      'expected "Authorization: Bearer <tenant>" with 1 to 64 letters, digits, dots, dashes or underscores',
    );
  }
  return tenant;
}

export const MAX_KEY_LENGTH = 255;

/**
 * The Idempotency-Key header: accepted bare or as an RFC 8941 string ("…"), 1 to 255
 * printable ASCII characters. Returns undefined when the header is absent.
 */
export function idempotencyKeyOf(request: IncomingMessage): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  const unquoted = /^"(.*)"$/.exec(value)?.[1] ?? value;
  if (
    unquoted.length === 0 ||
    unquoted.length > MAX_KEY_LENGTH ||
    !/^[\x20-\x7e]+$/.test(unquoted)
  ) {
    throw new HttpProblem(
      400,
      'Invalid Idempotency-Key',
      `the key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`,
    );
  }
  return unquoted;
}
