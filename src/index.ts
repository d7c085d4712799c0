/**
 * idemproof's public library API. The CLI is a thin layer over these exports.
 */
export { IdemproofError, isIdemproofError, type ErrorCategory, type ErrorCode } from './errors.js';

export { startPostgres, redactDatabaseUrl, type PostgresServer } from './provision/postgres.js';
export {
  startToxiproxy,
  toxiproxyVersion,
  type ToxiproxyServer,
} from './provision/toxiproxy-start.js';
export {
  chooseToxiproxy,
  machineToxiproxyFacts,
  toxiproxyUnavailableMessage,
  TOXIPROXY_IMAGE,
  type ToxiproxyChoice,
  type ToxiproxyFacts,
} from './provision/toxiproxy-locate.js';
export {
  installToxiproxy,
  TOXIPROXY_INSTALL_COMMAND,
  TOXIPROXY_VERSION,
} from './provision/toxiproxy-install.js';
export { runCleanups, registerCleanup, type Cleanup } from './provision/cleanup.js';

export { ToxiproxyApi, type Toxic, type ProxyInfo } from './nemesis/toxiproxy-api.js';

export { startDemoTarget, type DemoTarget, type DemoTargetOptions } from './demo/server.js';
export { startDemoStack, type DemoStack, type DemoStackOptions } from './demo/stack.js';
export { FLAWS, FLAW_NAMES, parseFlaw, type Flaw, type FlawName } from './demo/flaws.js';

// Scenarios: load, validate, write in TypeScript.
export { defineScenario } from './scenario/define.js';
export {
  loadScenarioFiles,
  loadScenarioFile,
  loadScenarioSources,
  type LoadedScenario,
  type ScenarioSource,
} from './scenario/load.js';
export { profileJsonSchema, scenarioJsonSchema } from './scenario/json-schema.js';
export type { Scenario, ScenarioInput, PatternSpec } from './scenario/schema.js';
export {
  PROFILES,
  PROFILE_NAMES,
  profileByName,
  overrideProfile,
  type Profile,
  type ProfileName,
} from './scenario/profile.js';
export { loadProfileFile, loadProfileOption } from './scenario/profile-file.js';
export { profileFileSchema, type ProfileFile } from './scenario/profile-schema.js';

// Plans: pure, seeded.
export { planScenario } from './plan/plan.js';
export type { PatternPlan, Step, SendStep, Operation } from './plan/schedule.js';

// History and checks: plain data and pure functions.
export type {
  HistoryEvent,
  InvokeEvent,
  OkEvent,
  FailEvent,
  InfoEvent,
  ProbeEvent,
  RecordedRequest,
  RecordedResponse,
} from './history/events.js';
export { attemptsOf } from './history/events.js';
export { runChecks, DEFAULT_CHECKERS, curlCommand } from './check/index.js';
export type { Checker, CheckResult, Anomaly, Validity } from './check/types.js';

// Running and reporting.
export { runSuite, type RunOptions, type RunOutcome } from './run/run.js';
export { run, LIBRARY_REPORTERS, type RunScenariosOptions } from './run/library.js';
export type { RunResult, ScenarioResult } from './run/result.js';
export { REPORTER_NAMES, createReporters } from './report/registry.js';
export type { Reporter, ReporterFactory } from './report/types.js';

// Property-based exploration.
export {
  explore,
  MODEL_CHECKS,
  type ExploreOptions,
  type ExploreResult,
  type Counterexample,
} from './explore/explore.js';
export {
  scheduleArbitrary,
  describeSchedule,
  type Schedule,
  type ScheduleStep,
} from './explore/schedule.js';
