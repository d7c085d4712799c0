/**
 * Small pieces of English shared by the checkers' messages, so every report names things the
 * same way: "key 'k-1' (tenant alice)", "2 effects", "'a', 'b' and 3 more".
 *
 * Must not: decide anything. These functions only phrase what a checker already found.
 */

/** "1 effect", "2 effects", "0 effects". */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}

export function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}`;
}

/** "tenant alice", or "the default tenant" for requests sent without tenant headers. */
export function tenantName(tenant: string | null): string {
  return tenant === null || tenant === '' ? 'the default tenant' : `tenant ${tenant}`;
}

/** "key 'k-1' (tenant alice)"; the tenant is left out for the default tenant. */
export function keyName(key: string, tenant: string | null): string {
  return tenant === null || tenant === '' ? `key '${key}'` : `key '${key}' (tenant ${tenant})`;
}

/** "a, b and c"; after `max` items, "a, b and 7 more". */
export function listWithMore(items: readonly string[], max = 5): string {
  if (items.length <= max) {
    if (items.length <= 1) return items.join('');
    return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
  }
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** "409" or "one of 400, 422". */
export function statusList(statuses: readonly number[]): string {
  if (statuses.length === 0) return 'no status (the profile lists none)';
  return statuses.length === 1 ? String(statuses[0]) : `one of ${statuses.join(', ')}`;
}

/** A value shown inside a sentence, cut to `max` characters. */
export function shorten(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The first 12 hex digits of a digest: enough to tell bodies apart in a report. */
export function shortDigest(sha256: string): string {
  return `${sha256.slice(0, 12)}…`;
}
