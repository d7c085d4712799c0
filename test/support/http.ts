import { Agent, request } from 'undici';

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  /** One request per connection, as faulted attempts use. */
  readonly fresh?: boolean;
  readonly timeoutMs?: number;
}

const shared = new Agent({ connections: 64 });

/** Sends one request and reads the whole response; throws the client error on failure. */
export async function send(url: string, options: SendOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  const timeout = options.timeoutMs ?? 10_000;
  const dispatcher = options.fresh === true ? new Agent({ pipelining: 0 }) : shared;
  try {
    const response = await request(url, {
      method: (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
      headers,
      body,
      dispatcher,
      reset: options.fresh === true,
      signal: AbortSignal.timeout(timeout),
    });
    const text = await response.body.text();
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: response.statusCode, headers: flat, body: text };
  } finally {
    if (dispatcher !== shared) await dispatcher.close().catch(() => undefined);
  }
}

/** Headers that differ between any two responses of a server and say nothing about replays. */
export const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export function withoutTransportHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !TRANSPORT_HEADERS.has(name)),
  );
}
