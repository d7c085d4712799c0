import { canonicalJson, isJsonObject } from './json-value.js';
import { shorten } from './wording.js';

/**
 * Where two JSON documents differ: each leaf (or whole sub-tree, when the types differ) as a
 * path and both values rendered as short JSON text, "(absent)" for a missing field. Object
 * key order never counts as a difference.
 */
export interface JsonDifference {
  /** e.g. `$.created_at`, `$.items[2].id`, `$["odd key"]`. */
  readonly path: string;
  readonly first: string;
  readonly second: string;
}

const ABSENT = '(absent)';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function fieldPath(parent: string, name: string): string {
  return IDENTIFIER.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

function render(value: unknown, present: boolean): string {
  return present ? shorten(canonicalJson(value), 60) : ABSENT;
}

/** All differences, in document order, stopping after `limit`. */
export function jsonDifferences(first: unknown, second: unknown, limit = 1000): JsonDifference[] {
  const found: JsonDifference[] = [];
  const walk = (a: unknown, b: unknown, path: string, inA: boolean, inB: boolean): void => {
    if (found.length >= limit) return;
    if (inA && inB && Array.isArray(a) && Array.isArray(b)) {
      for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
        walk(a[index], b[index], `${path}[${index}]`, index < a.length, index < b.length);
      }
      return;
    }
    if (inA && inB && isJsonObject(a) && isJsonObject(b)) {
      const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
      for (const name of names) {
        walk(
          a[name],
          b[name],
          fieldPath(path, name),
          Object.hasOwn(a, name),
          Object.hasOwn(b, name),
        );
      }
      return;
    }
    if (inA === inB && canonicalJson(a) === canonicalJson(b)) return;
    found.push({ path, first: render(a, inA), second: render(b, inB) });
  };
  walk(first, second, '$', true, true);
  return found;
}

/** "$.id: "pay_1" vs "pay_2"; $.status: … (and 3 more paths)". */
export function describeJsonDifferences(differences: readonly JsonDifference[], max = 5): string {
  const shown = differences
    .slice(0, max)
    .map(({ path, first, second }) => `${path}: ${first} vs ${second}`);
  const more = differences.length - shown.length;
  const tail = more > 0 ? ` (and ${more} more ${more === 1 ? 'path' : 'paths'})` : '';
  return `${shown.join('; ')}${tail}`;
}
