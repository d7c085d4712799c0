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
import { profileByName, type ProfileName } from '../scenario/profile.js';
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
  readonly profile: ProfileName;
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
    readonly name: ProfileName;
    readonly version: string;
    readonly source: string;
  };
  readonly target: string;
  /** ISO 8601: when the run started. */
  readonly date: string;
  readonly tool: { readonly name: 'idemproof'; readonly version: string };
  readonly runId: string;
  readonly seed: number;
  readonly replayCommand: string;
  readonly scenario: { readonly name: string; readonly file: string };
  /** What the scenario changed in the profile (what replays may differ in, windows). */
  readonly adjustments: readonly string[];
  readonly requirements: readonly RequirementResult[];
  /** The run's own report, with every attempt behind the evidence. */
  readonly reportDir: string;
}

/** The profile's adjustments a certificate accepts from a scenario: none of its rules. */
const ACCEPTED_OVERRIDES = ['replayIgnore', 'retentionMs', 'inProgressTimeoutMs'] as const;

/**
 * The conformance suite: the scenario's target, key, payload, tenants and probes under every
 * retry pattern the profile's requirements need, judged by the named profile (its rules
 * cannot be overridden; only what replays may differ in and declared windows carry over).
 */
export function conformanceScenario(scenario: Scenario, profile: ProfileName): Scenario {
  const tenants = Object.keys(scenario.target.tenants);
  const overrides = Object.fromEntries(
    ACCEPTED_OVERRIDES.filter((name) => scenario.overrides[name] !== undefined).map((name) => [
      name,
      scenario.overrides[name],
    ]),
  );
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
    profile,
    overrides,
    patterns: patterns as Scenario['patterns'],
  };
}

function certificateOf(
  options: CertifyOptions,
  loaded: LoadedScenario,
  result: RunResult,
): Certificate {
  const scenario = result.scenarios[0];
  const requirements = evaluateRequirements(
    requirementsOf(profileByName(options.profile)),
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
  const adjustments = ACCEPTED_OVERRIDES.flatMap((name) => {
    const value = loaded.scenario.overrides[name];
    return value === undefined ? [] : [`${name}: ${JSON.stringify(value)}`];
  });
  return {
    schemaVersion: 1,
    title: `idemproof conformance certificate: ${options.profile} profile`,
    verdict,
    summary,
    profile: { name: options.profile, ...PROFILE_SOURCES[options.profile] },
    target: scrubUrls(options.target),
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
  const source = options.scenario ?? join(DEMO_SUITE, 'payments.yaml');
  const [loaded] = await loadScenarioFile(source);
  if (loaded === undefined)
    throw new IdemproofError('IDEMPROOF_ERR_SCENARIO', `${source}: no scenario in the file`);
  const folder = await mkdtemp(join(tmpdir(), 'idemproof-certify-'));
  try {
    const file = join(
      folder,
      `${basename(loaded.file, extname(loaded.file))}.${options.profile}-conformance.yaml`,
    );
    await writeFile(file, stringify(conformanceScenario(loaded.scenario, options.profile)));
    const outcome = await runSuite({
      ...options,
      paths: [file],
      target: options.target,
      profile: options.profile,
      replayCommand: (seed) =>
        [
          `idemproof certify --profile ${options.profile} --target ${shellWord(options.target)}`,
          ...(options.scenario === undefined ? [] : [`--scenario ${shellWord(loaded.file)}`]),
          `--seed ${seed}`,
        ].join(' '),
    });
    const certificate = certificateOf(options, loaded, outcome.result);
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

const SYMBOL = { holds: '✓', violated: '✗', unknown: '?' } as const;

/** The certificate in a few lines for the terminal. */
export function formatCertificate(certificate: Certificate): string {
  return [
    `${certificate.summary}`,
    `${certificate.profile.name} profile (${certificate.profile.version}) · ${certificate.target}`,
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
