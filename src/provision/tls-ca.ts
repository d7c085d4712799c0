import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IdemproofError, describeError } from '../errors.js';

/**
 * A throwaway certificate authority made with the `openssl` CLI, for HTTPS demo targets and
 * tests: a CA, a server certificate for the given host names and a client certificate (mTLS),
 * each signed by the CA, written as PEM files in `dir`.
 *
 * Must not: be used for anything but local targets (keys are unencrypted, the CA lives a day),
 * or reach the network.
 */
export interface CertificateAuthorityFiles {
  readonly dir: string;
  /** The CA certificate: what a client trusts (`target.tls.ca`). */
  readonly ca: string;
  readonly caKey: string;
  /** Server certificate and key, valid for `hosts`. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate and key (`target.tls.cert` / `key`). */
  readonly clientCert: string;
  readonly clientKey: string;
}

export interface CertificateAuthorityOptions {
  /** Names (DNS) and addresses (IP) the server certificate is valid for; default `localhost`. */
  readonly hosts?: readonly string[];
  /** The CA's common name, so two CAs made in one test differ. */
  readonly name?: string;
  /** Days the certificates stay valid (default 1). */
  readonly days?: number;
}

const run = promisify(execFile);

/** Creates `dir` and the CA, server and client certificates in it; returns their paths. */
export async function createCertificateAuthority(
  dir: string,
  options: CertificateAuthorityOptions = {},
): Promise<CertificateAuthorityFiles> {
  const hosts = options.hosts ?? ['localhost'];
  const days = String(options.days ?? 1);
  const name = options.name ?? 'idemproof test CA';
  await mkdir(dir, { recursive: true });
  const files: CertificateAuthorityFiles = {
    dir,
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client-key.pem'),
  };
  const serverExtensions = join(dir, 'server.ext');
  const clientExtensions = join(dir, 'client.ext');
  await writeFile(
    serverExtensions,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n' +
      `extendedKeyUsage=serverAuth\nsubjectAltName=${subjectAltNames(hosts)}\n`,
  );
  await writeFile(
    clientExtensions,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  await newKey(files.caKey);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    files.caKey,
    '-subj',
    `/CN=${name}`,
    '-days',
    days,
    '-sha256',
    '-out',
    files.ca,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await issue(
    files,
    'server',
    hosts[0] ?? 'localhost',
    files.serverKey,
    files.serverCert,
    serverExtensions,
    days,
  );
  await issue(
    files,
    'client',
    'idemproof client',
    files.clientKey,
    files.clientCert,
    clientExtensions,
    days,
  );
  return files;
}

async function issue(
  files: CertificateAuthorityFiles,
  role: string,
  commonName: string,
  keyPath: string,
  certPath: string,
  extensions: string,
  days: string,
): Promise<void> {
  const request = join(files.dir, `${role}.csr`);
  await newKey(keyPath);
  await openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${commonName}`, '-out', request]);
  await openssl([
    'x509',
    '-req',
    '-in',
    request,
    '-CA',
    files.ca,
    '-CAkey',
    files.caKey,
    '-CAcreateserial',
    '-days',
    days,
    '-sha256',
    '-extfile',
    extensions,
    '-out',
    certPath,
  ]);
}

/** A P-256 private key (small, fast, accepted by every TLS stack). */
function newKey(path: string): Promise<void> {
  return openssl([
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    path,
  ]);
}

function subjectAltNames(hosts: readonly string[]): string {
  return hosts.map((host) => (isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`)).join(',');
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') {
      throw new IdemproofError(
        'IDEMPROOF_ERR_PROCESS_START',
        'the openssl command was not found on the PATH: it makes the certificates of an HTTPS ' +
          'target (install it, e.g. `apt-get install openssl`)',
      );
    }
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new IdemproofError(
      'IDEMPROOF_ERR_PROCESS_START',
      `openssl ${args[0] ?? ''} failed: ${typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : describeError(error)}`,
      { cause: error },
    );
  }
}
