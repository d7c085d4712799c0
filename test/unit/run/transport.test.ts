import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOfError } from '../../../src/client/send.js';
import { tlsAdvice } from '../../../src/client/tls-errors.js';
import { tlsConnectOptions } from '../../../src/client/tls.js';
import { laneDefinition } from '../../../src/nemesis/lanes.js';
import { resolveTransport, summariseTransport } from '../../../src/run/transport.js';
import { loadTargetScenario } from '../../support/target-scenario.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('resolving target.tls into the transport of a run', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'idemproof-resolve-'));
    await mkdir(join(folder, 'certs'));
    await writeFile(join(folder, 'certs', 'ca.pem'), PEM);
    await writeFile(join(folder, 'certs', 'client.pem'), PEM);
    await writeFile(
      join(folder, 'certs', 'client-key.pem'),
      PEM.replaceAll('CERTIFICATE', 'PRIVATE KEY'),
    );
    await writeFile(join(folder, 'certs', 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a]));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function load(target: string) {
    const [loaded] = await loadTargetScenario(folder, target);
    if (loaded === undefined) throw new Error('no scenario');
    return loaded;
  }

  it('is plain HTTP/1.1 for an http target', async () => {
    const loaded = await load('  baseUrl: http://127.0.0.1:8080');
    expect(await resolveTransport(loaded, undefined)).toEqual({ protocol: 'http1' });
  });

  it('verifies an https target against its own host name with the system CAs by default', async () => {
    const loaded = await load('  baseUrl: https://api.example.test:8443/v1');
    const transport = await resolveTransport(loaded, undefined);
    expect(transport.tls).toEqual({
      servername: 'api.example.test',
      ca: undefined,
      cert: undefined,
      key: undefined,
      insecure: false,
    });
    expect(summariseTransport(transport)).toEqual({
      protocol: 'http1',
      tls: {
        servername: 'api.example.test',
        ca: 'system',
        clientCertificate: false,
        insecure: false,
      },
    });
  });

  it('reads the PEM files relative to the scenario file, ${ENV} expanded; --target gives the name', async () => {
    const loaded = await load(
      "  baseUrl: https://localhost:8443\n  tls: { ca: certs/ca.pem, cert: '${CERT_DIR}/client.pem', key: certs/client-key.pem }",
    );
    const transport = await resolveTransport(loaded, 'https://staging.internal:9443', {
      CERT_DIR: 'certs',
    });
    expect(transport.tls?.servername).toBe('staging.internal');
    expect(transport.tls?.ca).toBe(PEM);
    expect(transport.tls?.cert).toBe(PEM);
    expect(transport.tls?.key).toContain('BEGIN PRIVATE KEY');
    expect(summariseTransport(transport).tls).toEqual({
      servername: 'staging.internal',
      ca: 'custom',
      clientCertificate: true,
      insecure: false,
    });
  });

  it('keeps an explicit servername', async () => {
    const loaded = await load('  baseUrl: https://10.0.0.5\n  tls: { servername: api.internal }');
    expect((await resolveTransport(loaded, undefined)).tls?.servername).toBe('api.internal');
  });

  it.each([
    [
      'a missing file',
      '  baseUrl: https://localhost:1\n  tls: { ca: certs/nope.pem }',
      {},
      /target-[\d-]+\.yaml at target\.tls\.ca: cannot read certs\/nope\.pem \(.*certs\/nope\.pem\): ENOENT/,
    ],
    [
      'a file that is not PEM',
      '  baseUrl: https://localhost:1\n  tls: { ca: certs/ca.der }',
      {},
      /at target\.tls\.ca: certs\/ca\.der is not a PEM file \(no -----BEGIN line\); convert DER/,
    ],
    [
      'an unset variable',
      "  baseUrl: https://localhost:1\n  tls: { cert: '${NO_SUCH_DIR}/c.pem', key: certs/client-key.pem }",
      {},
      /at target\.tls\.cert: environment variable NO_SUCH_DIR is not set/,
    ],
  ])('refuses %s, naming the scenario file and the field', async (_name, target, env, expected) => {
    const loaded = await load(target);
    await expect(resolveTransport(loaded, undefined, env)).rejects.toThrow(expected);
  });

  it('refuses TLS settings when --target points them at an http target', async () => {
    const loaded = await load('  baseUrl: https://localhost:1\n  tls: { insecure: true }');
    await expect(resolveTransport(loaded, 'http://127.0.0.1:8080')).rejects.toThrow(
      /--target http:\/\/127\.0\.0\.1:8080 with .*: TLS settings need an https target, but the target is http:\/\/127\.0\.0\.1:8080/,
    );
  });
});

describe('TLS through the lanes', () => {
  const tls = { servername: 'localhost', ca: PEM, insecure: false };

  it('sends the real host as SNI and verifies it, whatever address the lane has', () => {
    const options = tlsConnectOptions(tls);
    expect(options.servername).toBe('localhost');
    expect(options.rejectUnauthorized).toBe(true);
    // The check is against the configured name: a certificate for another name fails,
    // even when asked about the lane's address.
    const certificate = { subject: { CN: 'other.test' }, subjectaltname: 'DNS:other.test' };
    expect(options.checkServerIdentity('127.0.0.1', certificate as never)?.message).toMatch(
      /localhost/,
    );
    const matching = { subject: { CN: 'localhost' }, subjectaltname: 'DNS:localhost' };
    expect(options.checkServerIdentity('127.0.0.1', matching as never)).toBeUndefined();
  });

  it('never sends an IP address as SNI, and turns verification off only for insecure', () => {
    const options = tlsConnectOptions({ servername: '10.0.0.5', insecure: true });
    expect(options).not.toHaveProperty('servername');
    expect(options.rejectUnauthorized).toBe(false);
  });

  it('lets the handshake through on the lanes that lose responses, then cuts', () => {
    const options = { slowMs: 100, preludeBytes: 2800 };
    expect(laneDefinition('lost-response', options).toxics).toEqual([
      {
        name: 'lost_response',
        type: 'limit_data',
        stream: 'downstream',
        attributes: { bytes: 2800 },
      },
    ]);
    const blackhole = laneDefinition('blackhole', options).toxics;
    expect(blackhole[0]).toEqual({
      name: 'blackhole',
      type: 'limit_data',
      stream: 'downstream',
      attributes: { bytes: 2800 },
    });
    expect(blackhole[1]?.type).toBe('slow_close');
    // Lanes that fault the request, and plain-HTTP lanes, are unchanged.
    expect(laneDefinition('lost-request', options).toxics[0]?.type).toBe('reset_peer');
    expect(laneDefinition('lost-response', { slowMs: 100 }).toxics[0]?.type).toBe('reset_peer');
  });

  it('counts a refused certificate or a TLS alert as not delivered, with advice', () => {
    expect(outcomeOfError('SELF_SIGNED_CERT_IN_CHAIN', 'always')).toBe('fail');
    expect(outcomeOfError('ERR_TLS_CERT_ALTNAME_INVALID', 'always')).toBe('fail');
    expect(outcomeOfError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'always')).toBe('fail');
    expect(outcomeOfError('ECONNRESET', 'always')).toBe('info');
    expect(tlsAdvice('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).toContain('set target.tls.ca');
    expect(tlsAdvice('ERR_TLS_CERT_ALTNAME_INVALID')).toContain('target.tls.servername');
    expect(tlsAdvice('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')).toContain('target.tls.cert');
    expect(tlsAdvice('ECONNREFUSED')).toBe('');
  });
});
