/**
 * Every error idemproof raises on purpose carries a stable code from this file.
 *
 * The category decides the process exit code, and only the CLI entry point (`cli/bin.ts`)
 * turns a category into a number; library code never calls `process.exit`.
 */

export type ErrorCategory = 'usage' | 'scenario' | 'infrastructure' | 'internal';

export const ERROR_CODES = {
  IDEMPROOF_ERR_USAGE: 'usage',
  IDEMPROOF_ERR_SCENARIO: 'scenario',
  IDEMPROOF_ERR_TOXIPROXY_UNAVAILABLE: 'infrastructure',
  IDEMPROOF_ERR_TOXIPROXY_API: 'infrastructure',
  IDEMPROOF_ERR_TOXIPROXY_INSTALL: 'infrastructure',
  IDEMPROOF_ERR_POSTGRES_UNAVAILABLE: 'infrastructure',
  IDEMPROOF_ERR_BROKER_UNAVAILABLE: 'infrastructure',
  IDEMPROOF_ERR_PROCESS_START: 'infrastructure',
  IDEMPROOF_ERR_TARGET_UNREACHABLE: 'infrastructure',
  IDEMPROOF_ERR_PROBE_FAILED: 'infrastructure',
  IDEMPROOF_ERR_HOOK_FAILED: 'infrastructure',
  IDEMPROOF_ERR_REPORT: 'infrastructure',
  IDEMPROOF_ERR_INTERNAL: 'internal',
} as const satisfies Record<string, ErrorCategory>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class IdemproofError extends Error {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdemproofError';
    this.code = code;
    this.category = ERROR_CODES[code];
  }
}

export function isIdemproofError(value: unknown): value is IdemproofError {
  return value instanceof IdemproofError;
}

/** A one-line description of any thrown value, for messages that wrap a cause. */
export function describeError(value: unknown): string {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    const prefix = typeof code === 'string' && !value.message.includes(code) ? `${code}: ` : '';
    return `${prefix}${value.message || value.name}`;
  }
  return String(value);
}
