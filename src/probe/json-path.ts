/**
 * A small JSON path: `$`, `.name`, `['name']`, `["name"]` and `[0]`. Returns undefined when
 * the path does not exist.
 */
export function selectJsonPath(value: unknown, path: string): unknown {
  const trimmed = path.trim();
  if (!trimmed.startsWith('$')) throw new Error(`JSON path '${path}' must start with $`);
  let current: unknown = value;
  const token = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[(?:'([^']*)'|"([^"]*)")\]/y;
  let position = 1;
  while (position < trimmed.length) {
    token.lastIndex = position;
    const match = token.exec(trimmed);
    if (match === null)
      throw new Error(`JSON path '${path}' is not understood at character ${position + 1}`);
    position = token.lastIndex;
    const name = match[1] ?? match[3] ?? match[4];
    if (current === null || typeof current !== 'object') return undefined;
    if (name !== undefined) {
      current = Array.isArray(current) ? undefined : (current as Record<string, unknown>)[name];
    } else {
      const index = Number(match[2]);
      current = Array.isArray(current) ? current[index] : undefined;
    }
  }
  return current;
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
