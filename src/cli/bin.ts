#!/usr/bin/env node
import { CommanderError } from 'commander';
import { describeError, isIdemproofError } from '../errors.js';
import { cleanUpOnCrash, cleanUpOnSignals, runCleanups } from '../provision/cleanup.js';
import { EXIT_CODES, exitCodeForCategory } from './exit-codes.js';
import { processOutput } from './output.js';
import { createProgram } from './program.js';

/**
 * A reader that went away (`idemproof … | head`) must not end a run: what it would have
 * printed is dropped, and the run goes on to write its reports.
 */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = () => true;
  });
}

/** The only place that decides the process exit code. */
async function main(argv: string[]): Promise<number> {
  ignoreClosedPipe(process.stdout);
  cleanUpOnSignals((line) => processOutput.error(line));
  cleanUpOnCrash((line) => processOutput.error(line), EXIT_CODES.internal);
  let exitCode: number = EXIT_CODES.ok;
  const program = createProgram(processOutput, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (isIdemproofError(error)) {
      processOutput.error(`idemproof: ${error.message}\n(${error.code})`);
      return exitCodeForCategory(error.category);
    }
    processOutput.error(
      `idemproof: internal error: ${describeError(error)}\n${error instanceof Error ? (error.stack ?? '') : ''}`,
    );
    return EXIT_CODES.internal;
  } finally {
    for (const failure of await runCleanups()) processOutput.error(failure.message);
  }
}

process.exitCode = await main(process.argv);
