/**
 * JSON as the checkers compare it: parsed from a recorded body, and written canonically (object
 * keys sorted at every level, no spaces) so two documents compare equal exactly when they hold
 * the same data.
 */

export type JsonParse = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const fields = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${fields.join(',')}}`;
  }
  // undefined has no JSON form; it only appears when a value is absent.
  return JSON.stringify(value) ?? 'null';
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
