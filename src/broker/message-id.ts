import type { MessageIdPlace } from './types.js';

/**
 * Reads a message's id from where the scenario says it travels: a header, the AMQP
 * `messageId` property, or a field of the JSON body (a dotted path such as `meta.id`).
 *
 * Must not: throw on a message that is not JSON or lacks the id (a poison message has no id:
 * the answer is `undefined`), or guess at another place than the one it is given.
 */
export function messageIdOf(
  place: MessageIdPlace,
  message: {
    /** RabbitMQ headers (any AMQP values) or Kafka headers (Buffers, strings or arrays). */
    readonly headers?: Readonly<Record<string, unknown>> | undefined;
    readonly body: Buffer | string;
    readonly messageIdProperty?: string | undefined;
  },
): string | undefined {
  if ('header' in place) return headerValue(message.headers, place.header);
  if ('property' in place) {
    const value = message.messageIdProperty;
    return typeof value === 'string' && value !== '' ? value : undefined;
  }
  return bodyField(message.body, place.field);
}

/** The header's value as text; an exact name wins over a case-insensitive match. */
function headerValue(
  headers: Readonly<Record<string, unknown>> | undefined,
  name: string,
): string | undefined {
  if (headers === undefined) return undefined;
  let value = headers[name];
  if (value === undefined) {
    const lower = name.toLowerCase();
    const match = Object.keys(headers).find((key) => key.toLowerCase() === lower);
    value = match === undefined ? undefined : headers[match];
  }
  return asText(value);
}

function asText(value: unknown): string | undefined {
  if (Array.isArray(value)) return asText(value[0]);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function bodyField(body: Buffer | string, field: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return undefined;
  }
  let value: unknown = parsed;
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
