import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  type CertificateAuthorityFiles,
  type CertificateAuthorityOptions,
} from '../../src/provision/tls-ca.js';

/** A CA made at test time, with its files read as PEM text (for `https.createServer`). */
export interface TestCertificateAuthority {
  readonly files: CertificateAuthorityFiles;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Removes the folder of the files. */
  remove(): Promise<void>;
}

/**
 * Creates a throwaway CA (server certificate for `localhost` by default, and a client
 * certificate) in a fresh temporary folder. Call `remove()` in `afterAll`.
 */
export async function createTestCertificateAuthority(
  options: CertificateAuthorityOptions = {},
): Promise<TestCertificateAuthority> {
  const dir = await mkdtemp(join(tmpdir(), 'idemproof-tls-'));
  const files = await createCertificateAuthority(dir, options);
  const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all(
    [files.ca, files.serverCert, files.serverKey, files.clientCert, files.clientKey].map((path) =>
      readFile(path, 'utf8'),
    ),
  );
  return {
    files,
    ca: ca ?? '',
    serverCert: serverCert ?? '',
    serverKey: serverKey ?? '',
    clientCert: clientCert ?? '',
    clientKey: clientKey ?? '',
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
