import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { stringify } from 'yaml';
import { IdemproofError } from '../errors.js';
import { scrubUrls } from '../history/redact.js';
import { DEMO_SUITE } from '../cli/demo-command.js';
import { writeReportFile } from '../report/report-file.js';
import type { RunResult } from '../run/result.js';
import { runSuite, shellWord, type RunOptions, type RunOutcome } from '../run/run.js';
import { loadScenarioFile, type LoadedScenario } from '../scenario/load.js';
import { PROFILE_NAMES, type Profile, type ProfileName } from '../scenario/profile.js';
import { loadProfileOption } from '../scenario/profile-file.js';
import type { Scenario } from '../scenario/schema.js';
import { renderCertificatePage } from './certificate-html.js';
import {
  evaluateRequirements,
  PROFILE_SOURCES,
  requirementsOf,
  type RequirementResult,
} from './requirements.js';

export const CERTIFICATE_JSON = 'certificate.json';
export const CERTIFICATE_HTML = 'certificate.html';

export type CertifyOptions = Omit<RunOptions, 'paths' | 'profile' | 'target' | 'replayCommand'> & {
  /** A built-in profile's name, or a profile file (`./acme.yaml`). */
  readonly profile: string;
  readonly target: string;
  /** The scenario whose target, key, payload, tenants and probes are used; default the demo's. */
  readonly scenario?: string | undefined;
};

export interface Certificate {
  readonly schemaVersion: 1;
  readonly title: string;
  /**
   * certified: every requirement the run exercised holds, and every one an API must show was
   * exercised; not certified: one is violated; incomplete: otherwise (undecided, or cut short).
   */
  readonly verdict: 'certified' | 'not certified' | 'incomplete';
  /** The verdict in one line, naming what was not exercised. */
  readonly summary: string;
  readonly profile: {
    readonly name: string;
    readonly version: string;
    readonly source: string;
    /** SHA-256 of the profile file, or of the built-in profile's JSON. */
    readonly sha256: string;
  };
  readonly target: string;
  /** ISO 8601: when the run started. */
  readonly date: string;
  readonly tool: { readonly name: 'idemproof'; readonly version: string };
  readonly runId: string;
  readonly seed: number;
  readonly replayCommand: string;
  readonly scenario: { readonly name: string; readonly file: string };
  /** What the scenario's overrides changed in the profile (they win over it). */
  readonly adjustments: readonly string[];
  readonly requirements: readonly RequirementResult[];
  /** The run's own report, with every attempt behind the evidence. */
  readonly reportDir: string;
}

/**
 * The conformance suite: the scenario's target, key, payload, tenants and probes under every
 * retry pattern the profile's requirements need, judged by the profile (a built-in name, or
 * the name of a profile file given to the run as --profile) with every one of the scenario's
 * overrides laid over it: they win, and the certificate lists each as an adjustment.
 */
export function conformanceScenario(scenario: Scenario, profile: string): Scenario {
  const tenants = Object.keys(scenario.target.tenants);
  const patterns: unknown[] = [
    { kind: 'sequential-duplicates', count: 3, lanes: ['clean', 'lost-response'] },
    { kind: 'concurrent-burst', count: 8, rounds: 3 },
    { kind: 'payload-mismatch', concurrent: 2 },
    { kind: 'lost-response', retries: 2 },
    { kind: 'lost-request', retries: 1 },
    { kind: 'delayed-retries', delaysMs: [150, 600] },
    { kind: 'missing-key', count: 2 },
    { kind: 'distinct-keys', count: 3 },
    ...(tenants.length >= 2 ? [{ kind: 'cross-tenant' }] : []),
    ...scenario.patterns.filter((pattern) => pattern.kind === 'out-of-order'),
  ];
  return {
    ...scenario,
    name: `${scenario.name} · ${profile} conformance`,
    // A profile file is given to the run as --profile; the scenario names a built-in one.
    profile: (PROFILE_NAMES as string[]).includes(profile) ? profile : 'default',
    overrides: scenario.overrides,
    patterns: patterns as Scenario['patterns'],
  };
}

function certificateOf(
  base: Profile,
  loaded: LoadedScenario,
  result: RunResult,
  target: string,
): Certificate {
  const scenario = result.scenarios[0];
  // The requirements of the profile the run judged by: the base with the scenario's overrides.
  const requirements = evaluateRequirements(
    requirementsOf(scenario?.profile ?? base),
    scenario?.checks ?? [],
  );
  const cut = (result.stopped ?? null) !== null || (scenario?.error ?? null) !== null;
  const undecided = requirements.filter(
    (requirement) =>
      requirement.verdict === 'unknown' && (requirement.exercised || !requirement.optional),
  );
  const untested = requirements.filter(
    (requirement) => !requirement.exercised && requirement.optional,
  );
  const verdict = requirements.some((requirement) => requirement.verdict === 'violated')
    ? 'not certified'
    : cut || undecided.length > 0
      ? 'incomplete'
      : 'certified';
  const held = requirements.filter((requirement) => requirement.verdict === 'holds').length;
  const summary = [
    `${verdict.toUpperCase()}: ${held} of ${requirements.length} requirements hold`,
    ...(untested.length === 0
      ? []
      : [`not exercised: ${untested.map((requirement) => requirement.id).join(', ')}`]),
    ...(undecided.length === 0
      ? []
      : [`undecided: ${undecided.map((requirement) => requirement.id).join(', ')}`]),
    ...(cut ? ['the run stopped early'] : []),
  ].join(' · ');
  const adjustments = Object.entries(loaded.scenario.overrides).flatMap(([name, value]) =>
    value === undefined ? [] : [`${name}: ${JSON.stringify(value)}`],
  );
  return {
    schemaVersion: 1,
    title: `idemproof conformance certificate: ${base.name} profile`,
    verdict,
    summary,
    profile: profileFacts(base),
    target: scrubUrls(target),
    date: result.startedAt,
    tool: result.tool,
    runId: result.runId,
    seed: result.seed,
    replayCommand: result.replayCommand,
    scenario: { name: loaded.scenario.name, file: loaded.file },
    adjustments,
    requirements,
    reportDir: result.reportDir,
  };
}

/**
 * `idemproof certify`: runs the profile's conformance suite against the target and writes a
 * certificate (certificate.html and certificate.json) beside the run's usual reports: each
 * requirement of the profile with its verdict and the evidence behind it.
 */
export async function certify(
  options: CertifyOptions,
): Promise<{ certificate: Certificate; outcome: RunOutcome }> {
  const base = await loadProfileOption(options.profile);
  const source = options.scenario ?? join(DEMO_SUITE, 'payments.yaml');
  const [loaded] = await loadScenarioFile(source);
  if (loaded === undefined)
    throw new IdemproofError('IDEMPROOF_ERR_SCENARIO', `${source}: no scenario in the file`);
  const folder = await mkdtemp(join(tmpdir(), 'idemproof-certify-'));
  try {
    const file = join(
      folder,
      `${basename(loaded.file, extname(loaded.file))}.${base.name.replace(/[^\w.-]/g, '_')}-conformance.yaml`,
    );
    await writeFile(file, stringify(conformanceScenario(loaded.scenario, base.name)));
    const outcome = await runSuite({
      ...options,
      paths: [file],
      target: options.target,
      profile: options.profile,
      replayCommand: (seed) =>
        [
          `idemproof certify --profile ${shellWord(options.profile)} --target ${shellWord(options.target)}`,
          ...(options.scenario === undefined ? [] : [`--scenario ${shellWord(loaded.file)}`]),
          `--seed ${seed}`,
        ].join(' '),
    });
    const certificate = certificateOf(base, loaded, outcome.result, options.target);
    await writeReportFile(
      outcome.result.reportDir,
      CERTIFICATE_JSON,
      `${JSON.stringify(certificate, null, 2)}\n`,
    );
    await writeReportFile(
      outcome.result.reportDir,
      CERTIFICATE_HTML,
      renderCertificatePage(certificate),
    );
    return { certificate, outcome };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Which profile: a built-in one with its version and rules, or a profile file. */
function profileFacts(profile: Profile): Certificate['profile'] {
  const sha256 = profile.sha256 ?? '';
  if (profile.source === undefined || profile.source === 'built-in') {
    return { name: profile.name, ...PROFILE_SOURCES[profile.name as ProfileName], sha256 };
  }
  return { name: profile.name, version: 'profile file', source: profile.source, sha256 };
}

const SYMBOL = { holds: '✓', violated: '✗', unknown: '?' } as const;

/** The certificate in a few lines for the terminal. */
export function formatCertificate(certificate: Certificate): string {
  return [
    `${certificate.summary}`,
    `${certificate.profile.name} profile (${certificate.profile.version}, sha256 ${certificate.profile.sha256.slice(0, 12)}…) · ${certificate.target}`,
    '',
    ...certificate.requirements.flatMap((requirement) => [
      `${SYMBOL[requirement.verdict]} ${requirement.id} ${requirement.verdict}: ${requirement.text}`,
      `    ${requirement.evidence}`,
    ]),
    '',
    ...(certificate.adjustments.length === 0
      ? []
      : [`adjustments from the scenario: ${certificate.adjustments.join('; ')}`]),
    `${certificate.tool.name} ${certificate.tool.version} · ${certificate.date} · seed ${certificate.seed}`,
    `replay: ${certificate.replayCommand}`,
    `certificate: ${join(certificate.reportDir, CERTIFICATE_HTML)}`,
  ].join('\n');
}
