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
