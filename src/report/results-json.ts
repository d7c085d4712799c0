import type {
  Defect,
  DefectSignature,
  Reproduction,
  RunDefect,
  Symptom,
} from '../check/defects.js';
import type { Anomaly, CheckResult } from '../check/types.js';
import type { RunResult, ScenarioResult, StoppedRun, TransportSummary } from '../run/result.js';
import type { Profile } from '../scenario/profile.js';

/**
 * The run result rebuilt field by field in the order the types declare them, so results.json
 * has a stable shape whatever order the runner filled the object in. Adding a required field
 * to a type makes this file fail to compile until the field is placed here (and documented in
 * reports/README.md).
 *
 * Must not: add, rename or compute fields: results.json is the RunResult, nothing else.
 */

function orderedProfile(profile: Profile): Profile {
  return {
    name: profile.name,
    mismatchStatus: profile.mismatchStatus,
    inFlightStatus: profile.inFlightStatus,
    missingKey:
      profile.missingKey.expect === 'refused'
        ? { expect: 'refused', status: profile.missingKey.status }
        : { expect: 'processed' },
    replayHeader:
      profile.replayHeader === null
        ? null
        : { name: profile.replayHeader.name, value: profile.replayHeader.value },
    significantHeaders: profile.significantHeaders,
    replayIgnore: {
      headers: profile.replayIgnore.headers,
      jsonPaths: profile.replayIgnore.jsonPaths,
    },
    firstAttempt5xx: profile.firstAttempt5xx,
    retentionMs: profile.retentionMs,
    inProgressTimeoutMs: profile.inProgressTimeoutMs,
    refusals: {
      retryAfter: profile.refusals.retryAfter,
      problemJson: profile.refusals.problemJson,
      codes: profile.refusals.codes,
      mismatchBody: profile.refusals.mismatchBody,
    },
    fingerprint: {
      body: profile.fingerprint.body,
      query: profile.fingerprint.query,
      path: profile.fingerprint.path,
      headers: profile.fingerprint.headers,
    },
    // Set on every resolved profile; results made without them stay without them.
    ...(profile.source === undefined ? {} : { source: profile.source }),
    ...(profile.sha256 === undefined ? {} : { sha256: profile.sha256 }),
    ...(profile.overridden === undefined ? {} : { overridden: profile.overridden }),
  };
}

function orderedAnomaly(anomaly: Anomaly): Anomaly {
  const ordered: Anomaly = {
    kind: anomaly.kind,
    key: anomaly.key,
    tenant: anomaly.tenant,
    events: anomaly.events,
    expected: anomaly.expected,
    actual: anomaly.actual,
    message: anomaly.message,
  };
  return anomaly.curl === undefined ? ordered : { ...ordered, curl: anomaly.curl };
}

function orderedSignature(signature: DefectSignature): DefectSignature {
  return {
    checker: signature.checker,
    kind: signature.kind,
    patternKind: signature.patternKind,
    lanes: signature.lanes,
    statuses: signature.statuses,
  };
}

function orderedReproduction(reproduced: Reproduction | null): Reproduction | null {
  return reproduced === null
    ? null
    : { runs: reproduced.runs, of: reproduced.of, patterns: reproduced.patterns };
}

function orderedSymptom(symptom: Symptom): Symptom {
  return {
    id: symptom.id,
    signature: orderedSignature(symptom.signature),
    title: symptom.title,
    count: symptom.count,
    first: orderedAnomaly(symptom.first),
    firstPattern: symptom.firstPattern,
    others: symptom.others.map((other) => ({
      key: other.key,
      tenant: other.tenant,
      pattern: other.pattern,
      events: other.events,
      ...(other.scenario === undefined ? {} : { scenario: other.scenario }),
    })),
    reproduced: orderedReproduction(symptom.reproduced),
  };
}

/** A defect: its lead symptom's id, signature, title and first violation, then its symptoms. */
function orderedDefect(defect: Defect): Defect {
  return {
    id: defect.id,
    signature: orderedSignature(defect.signature),
    title: defect.title,
    count: defect.count,
    first: orderedAnomaly(defect.first),
    firstPattern: defect.firstPattern,
    reproduced: orderedReproduction(defect.reproduced),
    symptoms: defect.symptoms.map(orderedSymptom),
  };
}

function orderedRunDefect(defect: RunDefect): RunDefect {
  return {
    ...orderedDefect(defect),
    scenarios: defect.scenarios,
    symptoms: defect.symptoms.map((symptom) => ({
      ...orderedSymptom(symptom),
      scenarios: symptom.scenarios,
    })),
  };
}

function orderedCheck(check: CheckResult): CheckResult {
  return {
    checker: check.checker,
    valid: check.valid,
    checked: check.checked,
    anomalies: check.anomalies.map(orderedAnomaly),
    notes: check.notes,
  };
}

function orderedScenario(scenario: ScenarioResult): ScenarioResult {
  return {
    name: scenario.name,
    file: scenario.file,
    target: scenario.target,
    profile: orderedProfile(scenario.profile),
    valid: scenario.valid,
    patterns: scenario.patterns.map((pattern) => ({
      id: pattern.id,
      kind: pattern.kind,
      attempts: pattern.attempts,
      keys: pattern.keys,
      notes: pattern.notes,
    })),
    checks: scenario.checks.map(orderedCheck),
    // Every run sets it; results made without it stay without it.
    ...(scenario.defects === undefined ? {} : { defects: scenario.defects.map(orderedDefect) }),
    attempts: {
      total: scenario.attempts.total,
      ok: scenario.attempts.ok,
      fail: scenario.attempts.fail,
      info: scenario.attempts.info,
    },
    latency: {
      count: scenario.latency.count,
      p50: scenario.latency.p50,
      p90: scenario.latency.p90,
      p99: scenario.latency.p99,
      max: scenario.latency.max,
    },
    durationMs: scenario.durationMs,
    error:
      scenario.error === null
        ? null
        : { code: scenario.error.code, message: scenario.error.message },
    // Every run sets it (null when not known); results made without it stay without it.
    ...(scenario.transport === undefined
      ? {}
      : { transport: orderedTransport(scenario.transport) }),
  };
}

function orderedTransport(transport: TransportSummary | null): TransportSummary | null {
  if (transport === null) return null;
  const { tls } = transport;
  return {
    protocol: transport.protocol,
    tls:
      tls === null
        ? null
        : {
            servername: tls.servername,
            ca: tls.ca,
            clientCertificate: tls.clientCertificate,
            insecure: tls.insecure,
          },
  };
}

export function orderedResult(result: RunResult): RunResult {
  return {
    schemaVersion: result.schemaVersion,
    tool: { name: result.tool.name, version: result.tool.version },
    runId: result.runId,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    seed: result.seed,
    replayCommand: result.replayCommand,
    reportDir: result.reportDir,
    proxyPrefix: result.proxyPrefix,
    valid: result.valid,
    counts: {
      scenarios: result.counts.scenarios,
      checks: result.counts.checks,
      passed: result.counts.passed,
      failed: result.counts.failed,
      unknown: result.counts.unknown,
    },
    lanes: result.lanes.map((lane) => ({ name: lane.name, toxics: lane.toxics })),
    ...(result.repeat === undefined ? {} : { repeat: result.repeat }),
    ...(result.defects === undefined
      ? {}
      : {
          defects: result.defects.map(orderedRunDefect),
        }),
    stopped: orderedStop(result.stopped ?? null),
    scenarios: result.scenarios.map(orderedScenario),
  };
}

function orderedStop(stopped: StoppedRun | null): StoppedRun | null {
  if (stopped === null) return null;
  const counts = { attemptsPlanned: stopped.attemptsPlanned, requestsSent: stopped.requestsSent };
  switch (stopped.kind) {
    case 'interrupted':
      return { kind: stopped.kind, signal: stopped.signal, detail: stopped.detail, ...counts };
    case 'crashed':
      return { kind: stopped.kind, detail: stopped.detail, ...counts };
    case 'limit':
      return { kind: stopped.kind, limit: stopped.limit, detail: stopped.detail, ...counts };
  }
}

/** results.json's text: the result, 2-space indented, with a final newline. */
export function resultsJson(result: RunResult): string {
  return `${JSON.stringify(orderedResult(result), null, 2)}\n`;
}
