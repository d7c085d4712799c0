import { certify, formatCertificate } from '../certify/certify.js';
import type { Output } from './output.js';
import { parseSafety, parseSeed, type SafetyOptions } from './parse-options.js';
import { FILE_REPORTERS, reporterOption } from './reporter-option.js';
import { exitCodeOf } from './run-command.js';

export interface CertifyCommandOptions extends SafetyOptions {
  readonly profile: string;
  readonly target: string;
  readonly scenario?: string;
  readonly seed?: string;
  readonly reportDir?: string;
  readonly reporter?: string;
  readonly toxiproxy?: string;
  readonly suggestProfile?: boolean | string;
}

/** `idemproof certify --profile P --target URL [--scenario file]`: exit code as for `run`. */
export async function certifyCommand(
  options: CertifyCommandOptions,
  output: Output,
): Promise<number> {
  const { certificate, outcome } = await certify({
    profile: options.profile,
    target: options.target,
    scenario: options.scenario,
    suggestProfile: options.suggestProfile,
    seed: parseSeed(options.seed),
    reportDir: options.reportDir,
    reporters: reporterOption(options.reporter, FILE_REPORTERS) ?? [...FILE_REPORTERS],
    toxiproxyUrl: options.toxiproxy,
    ...parseSafety(options),
    out: output.result,
    err: output.error,
    interactive: process.stderr.isTTY,
  });
  output.result(formatCertificate(certificate));
  return exitCodeOf(outcome);
}
