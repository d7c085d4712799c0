import type { Defect, RunDefect } from '../check/defects.js';
import type { CheckResult, Validity } from '../check/types.js';
import type { PatternKind } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import type { StopReason } from './gate.js';

/**
 * What a run produced, as plain data. Reporters format it; `results.json` is this object
 * (its `schemaVersion` changes when a field changes meaning or goes away).
 */
export const RESULT_SCHEMA_VERSION = 1;

export interface PatternSummary {
  /** Pattern instance id, e.g. "concurrent-burst#1". */
  readonly id: string;
  readonly kind: PatternKind;
  readonly attempts: number;
  readonly keys: number;
  /** What the planner left out and why, e.g. a retry beyond the declared retention. */
  readonly notes: readonly string[];
}

export interface AttemptCounts {
  readonly total: number;
  /** Response read. */
  readonly ok: number;
  /** Certainly not processed. */
  readonly fail: number;
  /** Outcome unknown (timeout, reset, lost response). */
  readonly info: number;
}

export interface LatencySummary {
  /** Durations in ms of attempts that got a response. */
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface ScenarioResult {
  readonly name: string;
  /** The scenario file, relative to the working directory. */
  readonly file: string;
  /** The target base URL the scenario ran against. */
  readonly target: string;
  readonly profile: Profile;
  readonly valid: Validity;
  readonly patterns: readonly PatternSummary[];
  readonly checks: readonly CheckResult[];
  /**
   * The violations grouped into distinct defects, in order of first violation: symptoms
   * (check, anomaly kind, pattern kind, lanes, statuses) linked by the keys they share, each
   * defect led by its most severe symptom. Every run sets it; a result made without it is
   * grouped by reporters from its checks alone.
   */
  readonly defects?: readonly Defect[];
  readonly attempts: AttemptCounts;
  readonly latency: LatencySummary;
  readonly durationMs: number;
  /** Set when the scenario could not run to the end (target or probe unreachable…). */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** How attempts reached the target; null when not known (not resolved, or rebuilt). */
  readonly transport?: TransportSummary | null;
}

/** A scenario's HTTP version and TLS settings as reports show them (never the PEM data). */
export interface TransportSummary {
  readonly protocol: 'http1' | 'h2' | 'h2c';
  /** null: plain http. */
  readonly tls: {
    /** The name sent as SNI and verified. */
    readonly servername: string;
    /** custom: target.tls.ca; system: the system's CAs. */
    readonly ca: 'custom' | 'system';
    readonly clientCertificate: boolean;
    /** Certificate verification was switched off: shown loudly in every report. */
    readonly insecure: boolean;
  } | null;
}

export interface LaneSummary {
  readonly name: string;
  /** e.g. "downstream reset_peer timeout=0"; "none" for the clean lane. */
  readonly toxics: string;
}

export interface RunResult {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly tool: { readonly name: 'idemproof'; readonly version: string };
  readonly runId: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly seed: number;
  /** The command line that runs the same plan again (fresh keys, same seed). */
  readonly replayCommand: string;
  /** Where the reports were written. */
  readonly reportDir: string;
  /** Every proxy this run created on Toxiproxy was named with this prefix (and removed). */
  readonly proxyPrefix: string;
  readonly valid: Validity;
  readonly counts: {
    readonly scenarios: number;
    readonly checks: number;
    readonly passed: number;
    readonly failed: number;
    readonly unknown: number;
  };
  readonly lanes: readonly LaneSummary[];
  /** How many times the plan ran, each with fresh keys (`--repeat`); 1 when not repeated. */
  readonly repeat?: number;
  /**
   * The scenarios' defects with the same lead symptom merged (and their symptoms with the same
   * signature): the run's distinct defects, in order of first violation. Every run sets it; reporters merge the scenarios' own when missing.
   */
  readonly defects?: readonly RunDefect[];
  /**
   * Set when the run stopped before its plan was done: interrupted (Ctrl-C, SIGTERM), crashed,
   * or at a limit. The checks then cover only what was recorded, and the run cannot pass.
   */
  readonly stopped?: StoppedRun | null;
  readonly scenarios: readonly ScenarioResult[];
}

export type StoppedRun = StopReason & {
  /** Attempts the plan had. */
  readonly attemptsPlanned: number;
  /** Requests admitted to the target (attempts and HTTP probes) before it stopped. */
  readonly requestsSent: number;
};
