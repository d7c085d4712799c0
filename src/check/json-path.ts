import { isJsonObject } from './json-value.js';

/**
 * The small JSON path language of `replayIgnore.jsonPaths`: `$.field`, `$.a.b`, `$["odd key"]`,
 * `$['odd key']`, `$.items[0]`, and the wildcards `$.items[*].id` / `$.meta.*`.
 *
 * Must not: change the documents it is given; removal returns new values.
 */
export type PathSegment =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'any' };

const TOKEN =
  /^(?:\.([A-Za-z_$][\w$-]*)|\.\*|\[\*\]|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\['([^']*)'\])/;

/** The segments of `path`, or undefined when it is not a path this language understands. */
export function parseJsonPath(path: string): PathSegment[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: PathSegment[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match = TOKEN.exec(rest);
    if (match === null) return undefined;
    const [whole, dotted, index, doubleQuoted, singleQuoted] = match;
    if (dotted !== undefined) segments.push({ kind: 'field', name: dotted });
    else if (index !== undefined) segments.push({ kind: 'index', index: Number(index) });
    else if (doubleQuoted !== undefined) {
      const name = parseQuoted(doubleQuoted);
      if (name === undefined) return undefined;
      segments.push({ kind: 'field', name });
    } else if (singleQuoted !== undefined) segments.push({ kind: 'field', name: singleQuoted });
    else segments.push({ kind: 'any' });
    rest = rest.slice(whole.length);
  }
  return segments;
}

function parseQuoted(inner: string): string | undefined {
  try {
    return JSON.parse(`"${inner}"`) as string;
  } catch {
    return undefined;
  }
}

/** `value` without what `segments` points at (every match, for wildcards). */
export function removeAtPath(value: unknown, segments: readonly PathSegment[]): unknown {
  const [first, ...rest] = segments;
  if (first === undefined) return value;
  const last = rest.length === 0;
  if (Array.isArray(value)) {
    if (first.kind === 'field') return value;
    return value.flatMap((item: unknown, index) => {
      if (first.kind === 'index' && index !== first.index) return [item];
      return last ? [] : [removeAtPath(item, rest)];
    });
  }
  if (isJsonObject(value)) {
    if (first.kind === 'index') return value;
    const entries = Object.entries(value).flatMap(([name, item]): [string, unknown][] => {
      if (first.kind === 'field' && name !== first.name) return [[name, item]];
      return last ? [] : [[name, removeAtPath(item, rest)]];
    });
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * The one value `segments` point at, or undefined when nothing is there (a wildcard selects
 * nothing: it names many values).
 */
export function selectAtPath(value: unknown, segments: readonly PathSegment[]): unknown {
  let current: unknown = value;
  for (const segment of segments) {
    if (segment.kind === 'any' || current === null || typeof current !== 'object') return undefined;
    if (segment.kind === 'field') {
      current = Array.isArray(current)
        ? undefined
        : (current as Record<string, unknown>)[segment.name];
    } else {
      current = Array.isArray(current) ? (current[segment.index] as unknown) : undefined;
    }
  }
  return current;
}

export function removeAtPaths(value: unknown, paths: readonly (readonly PathSegment[])[]): unknown {
  return paths.reduce<unknown>((current, segments) => removeAtPath(current, segments), value);
}

/** Parses the profile's paths; the ones that do not parse are returned so a note can name them. */
export function compileJsonPaths(paths: readonly string[]): {
  readonly paths: PathSegment[][];
  readonly invalid: string[];
} {
  const compiled: PathSegment[][] = [];
  const invalid: string[] = [];
  for (const path of paths) {
    const segments = parseJsonPath(path);
    if (segments === undefined) invalid.push(path);
    else compiled.push(segments);
  }
  return { paths: compiled, invalid };
}
