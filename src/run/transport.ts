import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { TlsOptions, TransportOptions } from '../client/send.js';
import { IdemproofError, describeError } from '../errors.js';
import { measureH2Prelude, measureTlsPrelude } from '../nemesis/tls-prelude.js';
import { expandEnv } from '../probe/probes.js';
import { transportProblems } from '../scenario/cross-field.js';
import { MODULE_EXTENSIONS, YAML_EXTENSIONS } from '../scenario/files.js';
import type { LoadedScenario } from '../scenario/load.js';
import { printable } from '../scenario/printable.js';
import type { TransportSummary } from './result.js';
import type { LaneName } from '../scenario/schema.js';
import type { TlsSpec } from '../scenario/schema-transport.js';

/**
 * Resolves a scenario's `target.tls` and `target.http` (with the `--target` override) into the
 * `TransportOptions` every attempt, burst, probe and preflight of a run uses: PEM files are
 * read (relative to the scenario file, `${ENV}` expanded), and the name to verify is the real
 * target's host, since attempts connect to a fault lane on 127.0.0.1.
 *
 * Must not: open a connection, or report a problem without naming the scenario file and field.
 */

/** A PEM file larger than this is not a certificate bundle. */
const PEM_LIMIT_BYTES = 4 * 1024 * 1024;

export async function resolveTransport(
  loaded: LoadedScenario,
  targetOverride: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TransportOptions> {
  const { scenario, file } = loaded;
  const url = targetOverride ?? scenario.target.baseUrl;
  if (targetOverride !== undefined) {
    const [problem] = transportProblems(scenario.target, targetOverride);
    if (problem !== undefined) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        `--target ${printable(targetOverride)} with ${printable(file)}: ${problem.message}`,
      );
    }
  }
  const protocol = scenario.target.http === '1.1' ? 'http1' : scenario.target.http;
  const https = /^https:/i.test(url);
  if (!https) return { protocol };
  const spec: TlsSpec = scenario.target.tls ?? { insecure: false };
  const baseDir = scenarioDir(file);
  const pem = (field: 'ca' | 'cert' | 'key'): Promise<string | undefined> =>
    readPem(spec[field], field, file, baseDir, env);
  const [ca, cert, key] = await Promise.all([pem('ca'), pem('cert'), pem('key')]);
  const tls: TlsOptions = {
    servername: spec.servername ?? new URL(url).hostname.replace(/^\[|\]$/g, ''),
    ca,
    cert,
    key,
    insecure: spec.insecure,
  };
  return { protocol, tls };
}

/** Lanes that lose a response: over TLS they must let the handshake through first. */
const RESPONSE_LOSING_LANES: ReadonlySet<LaneName> = new Set(['lost-response', 'blackhole']);

/**
 * What the target sends before any response, for the fault lanes (`nemesis/tls-prelude.ts`),
 * measured directly against the target when a lane that loses responses is used: the TLS
 * handshake of an https (HTTP/1.1) target, the opening of an HTTP/2 one (h2, h2c); else
 * undefined.
 */
export async function tlsPreludeFor(
  transport: TransportOptions,
  targetBase: string,
  lanes: readonly LaneName[],
): Promise<number | undefined> {
  if (!lanes.some((lane) => RESPONSE_LOSING_LANES.has(lane))) return undefined;
  if (transport.protocol !== 'http1') {
    return measureH2Prelude(targetBase, transport).catch((error: unknown) => {
      throw new IdemproofError(
        'IDEMPROOF_ERR_TARGET_UNREACHABLE',
        `target ${targetBase}: the HTTP/2 opening (${transport.protocol}) fails: ${describeError(error)}`,
        { cause: error },
      );
    });
  }
  if (transport.tls === undefined) return undefined;
  const url = new URL(targetBase);
  const upstream = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 443 : Number(url.port),
  };
  try {
    return await measureTlsPrelude(upstream, transport.tls);
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_TARGET_UNREACHABLE',
      `target ${targetBase}: the TLS handshake fails: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/** The folder paths in `target.tls` are relative to: the scenario file's, else the working one. */
function scenarioDir(file: string): string {
  const extension = extname(file);
  return YAML_EXTENSIONS.has(extension) || MODULE_EXTENSIONS.has(extension)
    ? dirname(resolve(file))
    : process.cwd();
}

async function readPem(
  path: string | undefined,
  field: 'ca' | 'cert' | 'key',
  file: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const where = `${printable(file)} at target.tls.${field}`;
  let expanded: string;
  try {
    expanded = expandEnv(path, env);
  } catch (error) {
    throw new IdemproofError('IDEMPROOF_ERR_USAGE', `${where}: ${describeError(error)}`);
  }
  const absolute = resolve(baseDir, expanded);
  let text: string;
  try {
    const bytes = await readFile(absolute);
    if (bytes.length > PEM_LIMIT_BYTES)
      throw new Error(`${bytes.length} bytes, more than ${PEM_LIMIT_BYTES} for a PEM file`);
    text = bytes.toString('utf8');
  } catch (error) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${where}: cannot read ${printable(expanded)} (${printable(absolute)}): ${printable(describeError(error))}`,
      { cause: error },
    );
  }
  if (!text.includes('-----BEGIN ')) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `${where}: ${printable(expanded)} is not a PEM file (no -----BEGIN line); convert DER with \`openssl x509 -inform der -in file -out file.pem\``,
    );
  }
  return text;
}

/** What a report says about a scenario's transport: no PEM data, only what was used. */
export function summariseTransport(transport: TransportOptions): TransportSummary {
  const { tls } = transport;
  return {
    protocol: transport.protocol,
    tls:
      tls === undefined
        ? null
        : {
            servername: tls.servername,
            ca: tls.ca === undefined ? 'system' : 'custom',
            clientCertificate: tls.cert !== undefined,
            insecure: tls.insecure,
          },
  };
}
