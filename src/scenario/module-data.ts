import { isProxy } from 'node:util/types';

/**
 * Turns what a scenario module exports into JSON text, inside the process that ran the module
 * (`module-child.ts`). The module's code ran in this process and may have changed anything:
 * `Object.prototype`, `JSON`, `Array.prototype.push`. So the built-ins used here are taken
 * when this file loads (before the module), no property is read through a prototype, no
 * getter or `toJSON` is called, and text is built by string concatenation only.
 *
 * Accepts plain data: objects (prototype Object.prototype or null), arrays, strings, finite
 * numbers, booleans and null; `undefined` properties are left out, as JSON does. Anything else
 * (a function, a class instance such as a Map or a fast-check arbitrary, a getter, a BigInt, a
 * symbol, a Proxy, a cycle, nesting deeper than `maxDepth`, more than `maxBytes` of JSON) is
 * refused with a message naming the path.
 *
 * Must not: call any code of the module, or throw anything but a DataError.
 */

const ownKeys = Reflect.ownKeys;
const descriptorOf = Reflect.getOwnPropertyDescriptor;
const prototypeOf = Reflect.getPrototypeOf;
const hasOwn = Object.hasOwn;
const isArray = Array.isArray;
const quote = JSON.stringify;
const isFiniteNumber = Number.isFinite;
const OBJECT_PROTOTYPE: unknown = Object.prototype;
const ARRAY_PROTOTYPE: unknown = Array.prototype;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const isIdentifier = RegExp.prototype.test.bind(IDENTIFIER);

export class DataError extends Error {}

export interface DataLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}

/** The exported value as JSON text, or a DataError saying what is not plain data, and where. */
export function dataToJson(value: unknown, limits: DataLimits): string {
  // Ancestors of the value being written, by depth: a value among them is a cycle.
  const ancestors: Record<number, unknown> = Object.create(null) as Record<number, unknown>;
  let out = '';

  const write = (text: string, path: string): void => {
    if (out.length + text.length > limits.maxBytes) {
      throw new DataError(
        `${where(path)}the exported data is more than ${limits.maxBytes / 1e6} MB of JSON`,
      );
    }
    out += text;
  };

  const visit = (item: unknown, path: string, depth: number): void => {
    switch (typeof item) {
      case 'string':
        return write(quote(item), path);
      case 'boolean':
        return write(item ? 'true' : 'false', path);
      case 'number':
        if (!isFiniteNumber(item))
          throw new DataError(`${where(path)}${item} is not a JSON number`);
        return write(`${item}`, path);
      case 'undefined':
        return write('null', path);
      case 'bigint':
        throw new DataError(`${where(path)}a BigInt; write it as a number or a string`);
      case 'symbol':
        throw new DataError(`${where(path)}a symbol; scenario modules export plain data`);
      case 'function':
        throw new DataError(
          `${where(path)}a function; scenario modules export plain data (objects, arrays, strings, numbers, booleans, null)`,
        );
      case 'object':
        if (item === null) return write('null', path);
        return visitObject(item, path, depth);
    }
  };

  const visitObject = (item: object, path: string, depth: number): void => {
    if (isProxy(item)) throw new DataError(`${where(path)}a Proxy; export plain data`);
    if (depth >= limits.maxDepth) {
      throw new DataError(`${where(path)}nested more than ${limits.maxDepth} levels deep`);
    }
    for (let level = 0; level < depth; level += 1) {
      if (ancestors[level] === item)
        throw new DataError(`${where(path)}a cycle (the value contains itself)`);
    }
    ancestors[depth] = item;
    const prototype = prototypeOf(item);
    if (isArray(item) && prototype === ARRAY_PROTOTYPE) {
      visitArray(item, path, depth);
    } else if (prototype === OBJECT_PROTOTYPE || prototype === null) {
      visitPlainObject(item, path, depth);
    } else {
      throw new DataError(
        `${where(path)}an object of a class (not a plain object or array); scenario modules export plain data`,
      );
    }
    ancestors[depth] = undefined;
  };

  const visitArray = (item: unknown[], path: string, depth: number): void => {
    const length = valueOf(item, 'length', path);
    write('[', path);
    for (let index = 0; index < (length as number); index += 1) {
      if (index > 0) write(',', path);
      const inner = `${path}[${index}]`;
      // A hole or an undefined item becomes null, as in JSON.
      visit(valueOf(item, `${index}`, inner), inner, depth + 1);
    }
    write(']', path);
  };

  const visitPlainObject = (item: object, path: string, depth: number): void => {
    const keys = ownKeys(item);
    write('{', path);
    let first = true;
    for (let index = 0; index < keys.length; index += 1) {
      const key = keys[index];
      if (typeof key !== 'string') continue;
      const descriptor = descriptorOf(item, key);
      if (descriptor === undefined || descriptor.enumerable !== true) continue;
      const inner = isIdentifier(key)
        ? `${path === '' ? '' : `${path}.`}${key}`
        : `${path}[${quote(key)}]`;
      const value = valueOf(item, key, inner);
      if (value === undefined) continue;
      write(first ? '' : ',', path);
      first = false;
      write(`${quote(key)}:`, inner);
      visit(value, inner, depth + 1);
    }
    write('}', path);
  };

  visit(value, '', 0);
  return out;
}

/** The value of an own data property; a getter is refused, never called. */
function valueOf(item: object, key: string, path: string): unknown {
  const descriptor = descriptorOf(item, key);
  if (descriptor === undefined) return undefined;
  if (!hasOwn(descriptor, 'value')) {
    throw new DataError(`${where(path)}a getter or setter; scenario modules export plain values`);
  }
  return descriptor.value;
}

function where(path: string): string {
  if (path === '') return '';
  return `at ${path.length > 160 ? `${path.slice(0, 80)}…${path.slice(-60)}` : path}: `;
}
