import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every text a run left behind: each file of its one run folder under `reports`, and the
 * terminal's stdout and stderr, by name.
 */
export async function runOutputs(
  reports: string,
  terminal: { readonly stdout: string; readonly stderr: string },
): Promise<Record<string, string>> {
  const [runId] = await readdir(reports);
  const runDir = join(reports, runId ?? '');
  const outputs: Record<string, string> = { stdout: terminal.stdout, stderr: terminal.stderr };
  for (const file of await readdir(runDir)) {
    outputs[file] = await readFile(join(runDir, file), 'utf8');
  }
  return outputs;
}

/** "<secret name> in <output name>" for each secret found in any output. */
export function leaks(outputs: Record<string, string>, secrets: Record<string, string>): string[] {
  return Object.entries(outputs).flatMap(([name, text]) =>
    Object.entries(secrets)
      .filter(([, secret]) => text.includes(secret))
      .map(([what]) => `${what} in ${name}`),
  );
}
