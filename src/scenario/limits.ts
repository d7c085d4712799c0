/**
 * What one scenario file may cost, checked before anything is built from it. Each limit is far
 * above what a real scenario needs (the commented template is 5 kB, 8 patterns, 60 attempts)
 * and far below what would exhaust the machine. The README's "Safety guarantees" names them.
 */
export const SCENARIO_LIMITS = {
  /**
   * Bytes of a scenario file (YAML or module), checked with stat before it is read or run:
   * parsing YAML takes about a second per megabyte.
   */
  fileBytes: 1_000_000,
  /**
   * Size of the document once YAML aliases are expanded, or of the data a module exports, in
   * bytes of JSON: 99 aliases of a 0.9 MB string would otherwise make 89 MB request bodies.
   */
  documentBytes: 2_000_000,
  /** Nesting of objects and arrays in the document (aliases included); real ones use ~6. */
  depth: 100,
  /** Entries under `patterns` in one scenario. */
  patterns: 20_000,
  /** Requests one scenario's plan may send (before probes), counted before it is built. */
  attempts: 100_000,
  /** A scenario module has this long to export its data, then it is killed. */
  moduleMs: 10_000,
  /** The heap of the process that evaluates a scenario module (V8 old space, MB). */
  moduleHeapMb: 256,
} as const;
