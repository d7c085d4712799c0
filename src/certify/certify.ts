import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { stringify } from 'yaml';
import { IdemproofError } from '../errors.js';
import { scrubUrls } from '../history/redact.js';
import { DEMO_SUITE } from '../cli/demo-command.js';
import { writeReportFile } from '../report/report-file.js';
import type { RunResult } from '../run/result.js';
import { readHistory, readRunFile } from '../run/run-file.js';
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
import {
  inferProfile,
  judgeAgain,
  nearestBuiltIn,
  profileFileText,
  type SuggestedProfile,
} from './suggest.js';

export const CERTIFICATE_JSON = 'certificate.json';
export const CERTIFICATE_HTML = 'certificate.html';
export const SUGGESTED_PROFILE = 'suggested-profile.yaml';
/** Rounds of judging the history again under the suggestion before it is written. */
const SUGGEST_ROUNDS = 4;

export type CertifyOptions = Omit<RunOptions, 'paths' | 'profile' | 'target' | 'replayCommand'> & {
  /** A built-in profile's name, or a profile file (`./acme.yaml`). */
  readonly profile: string;
  readonly target: string;
  /** The scenario whose target, key, payload, tenants and probes are used; default the demo's. */
  readonly scenario?: string | undefined;
  /**
   * Write the profile the target was seen to follow: true for suggested-profile.yaml in the
   * report folder, or a file path.
   */
  readonly suggestProfile?: boolean | string | undefined;
};

/** One part of a certificate and its verdict. */
export interface CertificatePart<V extends string> {
  /**
   * profile part: conforms (every choice holds), diverges (one is violated), undecided;
   * defects part: none (every requirement holds), found (one is violated), undecided.
   */
  readonly verdict: V;
  readonly requirements: readonly RequirementResult[];
}

export interface Certificate {
  readonly schemaVersion: 2;
  readonly title: string;
  /**
   * certified: the target conforms to the profile and has no defect, and every requirement an
   * API must show was exercised; not certified: a requirement of either part is violated;
   * incomplete: otherwise (undecided, or cut short).
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
  /** "Conforms to profile P (sha256 …)": the profile's choices, each holds/violated/unknown. */
  readonly conformance: CertificatePart<'conforms' | 'diverges' | 'undecided'>;
  /** What no profile can excuse: more effects, a different replay, a stuck key… */
  readonly defects: CertificatePart<'none' | 'found' | 'undecided'>;
  /** The profile the target was seen to follow, when asked for (`--suggest-profile`). */
  readonly suggestedProfile?: SuggestedProfile;
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

/** Is a requirement undecided in a way that keeps a certificate from being given? */
function undecided(requirement: RequirementResult): boolean {
  return requirement.verdict === 'unknown' && (requirement.exercised || !requirement.optional);
}

function partOf<V extends string>(
  requirements: readonly RequirementResult[],
  verdicts: readonly [violated: V, undecided: V, holds: V],
): CertificatePart<V> {
  const [violated, open, holds] = verdicts;
  const verdict = requirements.some((requirement) => requirement.verdict === 'violated')
    ? violated
    : requirements.some(undecided)
      ? open
      : holds;
  return { verdict, requirements };
}

const ids = (requirements: readonly RequirementResult[]): string =>
  requirements.map((requirement) => requirement.id).join(', ');

function summaryOf(
  verdict: Certificate['verdict'],
  conformance: Certificate['conformance'],
  defects: Certificate['defects'],
  profile: string,
  cut: boolean,
): string {
  const all = [...conformance.requirements, ...defects.requirements];
  const violated = (part: CertificatePart<string>): RequirementResult[] =>
    part.requirements.filter((requirement) => requirement.verdict === 'violated');
  const untested = all.filter((requirement) => !requirement.exercised && requirement.optional);
  const open = all.filter(undecided);
  const conformanceText =
    conformance.verdict === 'diverges'
      ? `diverges from profile ${profile} (${ids(violated(conformance))})`
      : conformance.verdict === 'conforms'
        ? `conforms to profile ${profile}`
        : `conformance to profile ${profile} undecided`;
  const defectText =
    defects.verdict === 'found'
      ? `defects: ${ids(violated(defects))}`
      : defects.verdict === 'none'
        ? 'no defects'
        : 'defects undecided';
  return [
    `${verdict.toUpperCase()}: ${conformanceText}; ${defectText}`,
    ...(untested.length === 0 ? [] : [`not exercised: ${ids(untested)}`]),
    ...(open.length === 0 ? [] : [`undecided: ${ids(open)}`]),
    ...(conformance.verdict === 'diverges' && defects.verdict === 'none'
      ? ['the target differs from the profile only in its choices (--suggest-profile names them)']
      : []),
    ...(cut ? ['the run stopped early'] : []),
  ].join(' · ');
}

/** The certificate of a conformance run, judged by `judged` (the base with the overrides). */
export function certificateOf(
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
  const conformance = partOf(
    requirements.filter((requirement) => requirement.part === 'profile'),
    ['diverges', 'undecided', 'conforms'] as const,
  );
  const defects = partOf(
    requirements.filter((requirement) => requirement.part === 'defect'),
    ['found', 'undecided', 'none'] as const,
  );
  const cut = (result.stopped ?? null) !== null || (scenario?.error ?? null) !== null;
  const verdict =
    conformance.verdict === 'diverges' || defects.verdict === 'found'
      ? 'not certified'
      : cut || conformance.verdict === 'undecided' || defects.verdict === 'undecided'
        ? 'incomplete'
        : 'certified';
  const adjustments = Object.entries(loaded.scenario.overrides).flatMap(([name, value]) =>
    value === undefined ? [] : [`${name}: ${JSON.stringify(value)}`],
  );
  return {
    schemaVersion: 2,
    title: `idemproof conformance certificate: ${base.name} profile`,
    verdict,
    summary: summaryOf(verdict, conformance, defects, base.name, cut),
    profile: profileFacts(base),
    target: scrubUrls(target),
    date: result.startedAt,
    tool: result.tool,
    runId: result.runId,
    seed: result.seed,
    replayCommand: result.replayCommand,
    scenario: { name: loaded.scenario.name, file: loaded.file },
    adjustments,
    conformance,
    defects,
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
    const judged = certificateOf(base, loaded, outcome.result, options.target);
    const certificate =
      options.suggestProfile === undefined || options.suggestProfile === false
        ? judged
        : {
            ...judged,
            suggestedProfile: await suggestProfile(
              judged,
              outcome.result,
              base,
              options.suggestProfile === true
                ? join(outcome.result.reportDir, SUGGESTED_PROFILE)
                : options.suggestProfile,
            ),
          };
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

/**
 * Writes the profile the target was seen to follow to `file` and judges the recorded history
 * again under it: the certificate says whether it fits.
 */
async function suggestProfile(
  certificate: Certificate,
  result: RunResult,
  base: Profile,
  file: string,
): Promise<SuggestedProfile> {
  const scenario = result.scenarios[0];
  const run = await readRunFile(result.reportDir);
  const history = await readHistory(result.reportDir, () => undefined);
  const [entry] = run.scenarios;
  const name = `${base.name.replace(/-suggested$/, '')}-suggested`;
  let profile: Profile = { ...(scenario?.profile ?? base), name };
  let conformance = certificate.conformance.requirements;
  let checks = scenario?.checks ?? [];
  let requirements: readonly RequirementResult[] = [];
  const changes: string[] = [];
  // A check keeps only its first anomalies: each round judges the history again under the
  // suggestion so far, and changes what the next violations show, until nothing changes.
  for (let round = 0; round < SUGGEST_ROUNDS && entry !== undefined; round++) {
    const inferred = inferProfile(profile, conformance, checks);
    profile = inferred.profile;
    changes.push(...inferred.changes);
    const judged = judgeAgain(
      { file: entry.file, scenario: entry.scenario },
      profile,
      {
        seed: run.seed,
        run: run.run,
        repeat: run.repeat ?? 1,
        target: run.target ?? entry.scenario.target.baseUrl,
      },
      history,
    );
    requirements = judged.requirements;
    checks = judged.checks;
    conformance = requirements.filter((requirement) => requirement.part === 'profile');
    if (inferred.changes.length === 0) break;
  }
  const nearest = nearestBuiltIn(profile);
  const choices = requirements.filter((requirement) => requirement.part === 'profile');
  const fits =
    choices.length > 0 && choices.every((requirement) => requirement.verdict !== 'violated');
  const header = [
    `The profile ${certificate.target} was seen to follow, suggested by idemproof certify`,
    `(run ${certificate.runId}, seed ${certificate.seed}) from the ${base.name} profile${
      changes.length === 0 ? ': no choice differed.' : ', with these changes:'
    }`,
    ...changes.map((change) => `  - ${change}`),
    fits
      ? 'Judged again on the recorded history, every choice of this profile holds.'
      : 'Judged again on the recorded history, some choices still do not hold: see certificate.json.',
    ...(certificate.adjustments.length === 0
      ? []
      : [
          "The scenario's overrides are part of it: remove them from the scenario when you use it.",
        ]),
  ];
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, profileFileText(name, nearest, header));
  return { file, extends: nearest.extends, fields: nearest.fields, changes, fits, requirements };
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

function requirementLines(requirements: readonly RequirementResult[]): string[] {
  return requirements.flatMap((requirement) => [
    `${SYMBOL[requirement.verdict]} ${requirement.id} ${requirement.verdict}: ${requirement.text}`,
    `    ${requirement.evidence}`,
  ]);
}

/** The headings of a certificate's two parts, as every format names them. */
export function partHeadings(certificate: Certificate): { conformance: string; defects: string } {
  const { conformance, defects, profile } = certificate;
  return {
    conformance: `Conforms to profile ${profile.name} (sha256 ${profile.sha256.slice(0, 12)}…): ${conformance.verdict}`,
    defects: `Defects (no profile excuses them): ${
      defects.verdict === 'found'
        ? `${defects.requirements.filter((requirement) => requirement.verdict === 'violated').length} found`
        : defects.verdict
    }`,
  };
}

/** The certificate in a few lines for the terminal. */
export function formatCertificate(certificate: Certificate): string {
  const headings = partHeadings(certificate);
  const suggestion = certificate.suggestedProfile;
  return [
    `${certificate.summary}`,
    `${certificate.profile.name} profile (${certificate.profile.version}, sha256 ${certificate.profile.sha256.slice(0, 12)}…) · ${certificate.target}`,
    '',
    headings.conformance,
    ...requirementLines(certificate.conformance.requirements),
    '',
    headings.defects,
    ...requirementLines(certificate.defects.requirements),
    '',
    ...(suggestion === undefined
      ? []
      : [
          `suggested profile: ${suggestion.file} (extends ${suggestion.extends}; ${
            suggestion.changes.length === 0 ? 'no choice differed' : suggestion.changes.join('; ')
          }); ${suggestion.fits ? 'it fits the recorded history' : 'it does not fit every choice'}`,
        ]),
    ...(certificate.adjustments.length === 0
      ? []
      : [`adjustments from the scenario: ${certificate.adjustments.join('; ')}`]),
    `${certificate.tool.name} ${certificate.tool.version} · ${certificate.date} · seed ${certificate.seed}`,
    `replay: ${certificate.replayCommand}`,
    `certificate: ${join(certificate.reportDir, CERTIFICATE_HTML)}`,
  ].join('\n');
}
