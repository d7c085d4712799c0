import { createHash } from 'node:crypto';
import type { RecordedRequest } from './events.js';

/**
 * How many bytes of each request body the history keeps by default, as for responses: enough
 * for any ordinary payload, while a fan-out of huge bodies cannot fill the report folder.
 */
export const REQUEST_BODY_RECORD_LIMIT = 256 * 1024;

/**
 * The recorded request with its body cut to its first `limit` bytes when it is longer, and
 * the size and SHA-256 of the whole body as `sent` (the request before redaction) beside it.
 * A text cut inside a UTF-8 sequence ends in U+FFFD, as response bodies do; a base64 body
 * (binary) keeps its first `limit` bytes, in base64.
 *
 * Must not: change a body within the limit, or hash anything but the bytes that were sent.
 */
export function boundRequestBody(
  recorded: RecordedRequest,
  sent: RecordedRequest,
  limit: number,
): RecordedRequest {
  const body = recorded.body;
  if (body === null || body.length <= limit / 3 || Buffer.byteLength(body) <= limit) {
    return recorded;
  }
  const base64 = recorded.bodyEncoding === 'base64';
  const kept = requestBodyBytes(recorded);
  if (base64 && kept.length <= limit) return recorded;
  const whole = requestBodyBytes(sent);
  return {
    ...recorded,
    body: kept.subarray(0, limit).toString(base64 ? 'base64' : 'utf8'),
    bodyBytes: whole.length,
    bodySha256: createHash('sha256').update(whole).digest('hex'),
    bodyTruncated: true,
  };
}

/** The bytes of a recorded request body (base64 decoded when the record says so). */
export function requestBodyBytes(request: RecordedRequest): Buffer {
  return Buffer.from(request.body ?? '', request.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}
