import { parseJsonPath, selectAtPath } from '../check/json-path.js';

/**
 * Selects the value at a JSON path (`$`, `.name`, `['name']`, `["name"]`, `[0]`; the same
 * language as `replayIgnore.jsonPaths`, without wildcards). Undefined when nothing is there.
 */
export function selectJsonPath(value: unknown, path: string): unknown {
  const segments = parseJsonPath(path.trim());
  if (segments === undefined) {
    throw new Error(
      `JSON path '${path}' is not understood: use $, .name, ['name'] and [0], e.g. $.data[0].id`,
    );
  }
  if (segments.some((segment) => segment.kind === 'any'))
    throw new Error(`JSON path '${path}': wildcards cannot select one value`);
  return selectAtPath(value, segments);
}

/** A count from a JSON document: the number at `path`, or the length of the array there. */
export function countAt(document: unknown, path: string): number {
  const selected = selectJsonPath(document, path);
  if (Array.isArray(selected)) return selected.length;
  if (typeof selected === 'number' && Number.isFinite(selected)) return selected;
  if (typeof selected === 'string' && /^\d+$/.test(selected)) return Number(selected);
  const shown = selected === undefined ? 'nothing' : JSON.stringify(selected).slice(0, 80);
  throw new Error(`expected a number or an array at ${path}, found ${shown}`);
}
