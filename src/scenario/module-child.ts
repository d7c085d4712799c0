/**
 * The process that evaluates one scenario module (started by `module-load.ts`, never imported).
 * argv[2] is the module's path. It imports the module, takes its default export (or `scenarios`
 * or `scenario`), and writes one JSON message on fd 3: `{"values": [...]}` or `{"error": "…"}`,
 * then exits. The module's stdout is discarded and its stderr read only for an out-of-memory
 * report, so nothing it prints reaches the CLI's output. The parent bounds time and memory and
 * kills this process once the message is in.
 *
 * Must not: trust anything the module may have changed (see `module-data.ts`), or exit without
 * writing the message unless the module made it.
 */
import { Buffer } from 'node:buffer';
import { closeSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isNativeError } from 'node:util/types';
import { DataError, dataToJson } from './module-data.js';
import { SCENARIO_LIMITS } from './limits.js';

const RESULT_FD = 3;
const quote = JSON.stringify;
const exit = process.exit.bind(process);
const descriptorOf = Reflect.getOwnPropertyDescriptor;
const ownKeys = Reflect.ownKeys;
const prototypeOf = Reflect.getPrototypeOf;
const toBytes = Buffer.from.bind(Buffer);
const apply = Reflect.apply;
const hasOwn = Object.hasOwn;
const isArray = Array.isArray;
let sent = false;

/** Writes the message once, closes the channel and exits; the parent reads it at the close. */
function send(message: string): never {
  if (!sent) {
    sent = true;
    try {
      const bytes = toBytes(message, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(RESULT_FD, bytes, written);
      closeSync(RESULT_FD);
    } catch {
      // The parent is gone or stopped reading (too much data): it reports why.
    }
  }
  return exit(0);
}

function sendError(text: string): never {
  return send(`{"error":${quote(text)}}`);
}

/** One line about a thrown value, whatever it is: never calls its getters or toString. */
function describeThrown(value: unknown): string {
  try {
    if (typeof value === 'string') return value;
    if (isNativeError(value)) {
      const message = ownString(value, 'message');
      const name = ownString(value, 'name') ?? ownString(prototypeOf(value), 'name');
      return `${name ?? 'Error'}${message === undefined || message === '' ? '' : `: ${message}`}`;
    }
    if (value === null || typeof value !== 'object')
      return `threw ${typeof value} ${quote(value) ?? ''}`;
    return 'threw an object that is not an Error';
  } catch {
    return 'threw a value that cannot be described';
  }
}

function ownString(value: unknown, key: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const descriptor = descriptorOf(value, key);
  if (descriptor === undefined || !hasOwn(descriptor, 'value')) return undefined;
  const text: unknown = descriptor.value;
  return typeof text === 'string' ? text : undefined;
}

/**
 * An own property of the module's exports. Export bindings compiled to CommonJS are getters
 * (esbuild's `__export`), so a getter is called here, and only here: inside the scenario data,
 * getters are refused (`module-data.ts`).
 */
function ownValue(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function'))
    return undefined;
  const descriptor = descriptorOf(value, key);
  if (descriptor === undefined) return undefined;
  if (hasOwn(descriptor, 'value')) return descriptor.value;
  return typeof descriptor.get === 'function' ? apply(descriptor.get, value, []) : undefined;
}

/**
 * The scenario value: the default export, or `scenarios`, or `scenario`. A TypeScript file
 * outside an ESM package loads as CommonJS: its exports then sit one level down, in `default`.
 */
function exported(namespace: unknown): unknown {
  let value = ownValue(namespace, 'default');
  if (value !== null && typeof value === 'object' && ownValue(value, 'default') !== undefined) {
    const keys = ownKeys(value);
    let others = 0;
    for (let index = 0; index < keys.length; index += 1)
      if (keys[index] !== '__esModule') others += 1;
    if (others === 1) value = ownValue(value, 'default');
  }
  return value ?? ownValue(namespace, 'scenarios') ?? ownValue(namespace, 'scenario');
}

process.on('uncaughtException', (error) =>
  sendError(`the module failed: ${describeThrown(error)}`),
);
process.on('unhandledRejection', (error) =>
  sendError(`the module failed: ${describeThrown(error)}`),
);

const path = process.argv[2] ?? '';
let namespace: unknown;
try {
  namespace = await import(pathToFileURL(resolve(path)).href);
} catch (error) {
  sendError(`cannot load the module: ${describeThrown(error)}`);
}
try {
  const value = exported(namespace);
  if (value === undefined) {
    sendError('the module has no default export (export default defineScenario({...}))');
  }
  const limits = { maxBytes: SCENARIO_LIMITS.documentBytes, maxDepth: SCENARIO_LIMITS.depth };
  // A list is one scenario per item (paths in messages start at [index]).
  const json = isArray(value) ? dataToJson(value, limits) : `[${dataToJson(value, limits)}]`;
  send(`{"values":${json}}`);
} catch (error) {
  sendError(
    error instanceof DataError
      ? `the default export is not plain data: ${error.message}`
      : `cannot read the default export: ${describeThrown(error)}`,
  );
}
