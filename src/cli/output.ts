/**
 * Where CLI commands write. Results go to stdout; progress and diagnostics to stderr, so
 * `idemproof … > file` captures only results.
 */
export interface Output {
  /** A result the user asked for (stdout). */
  readonly result: (text: string) => void;
  /** Progress (stderr). */
  readonly info: (text: string) => void;
  /** A problem (stderr). */
  readonly error: (text: string) => void;
}

export const processOutput: Output = {
  result: (text) => process.stdout.write(`${text}\n`),
  info: (text) => process.stderr.write(`${text}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
};
