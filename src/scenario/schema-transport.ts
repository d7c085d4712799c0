import { z } from 'zod';

/**
 * How a scenario reaches its target over the wire: `target.tls` (CA bundle, client
 * certificate, the insecure opt-in, the name to verify) and `target.http` (HTTP version).
 * Only the model: files are read when a run resolves them (`run/transport.ts`); the rules that
 * tie these fields to the base URL's scheme live in `cross-field.ts`.
 */

const pemPath = z
  .string()
  .min(1)
  .describe('Path of a PEM file, relative to the scenario file; ${ENV_VAR} is expanded');

export const tlsSchema = z
  .object({
    ca: pemPath
      .optional()
      .describe(
        'CA bundle (PEM) to trust instead of the system CAs, e.g. certs/ca.pem (relative to the scenario file)',
      ),
    cert: pemPath
      .optional()
      .describe(
        'Client certificate (PEM) for mutual TLS; needs key (relative to the scenario file)',
      ),
    key: pemPath.optional().describe('Private key (PEM) of the client certificate; needs cert'),
    insecure: z
      .boolean()
      .default(false)
      .describe(
        'Skip certificate verification (self-signed targets); every report shows it loudly. Prefer ca',
      ),
    servername: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Host name sent as SNI and checked against the certificate (default: the host of the target URL)',
      ),
  })
  .strict()
  .superRefine((tls, context) => {
    if (tls.cert !== undefined && tls.key === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['cert'],
        message: 'a client certificate needs its private key: add target.tls.key',
      });
    }
    if (tls.key !== undefined && tls.cert === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['key'],
        message: 'a client key needs its certificate: add target.tls.cert',
      });
    }
  })
  .describe('TLS settings of an https target: CA bundle, client certificate (mTLS), insecure');

export const httpVersionSchema = z
  .enum(['1.1', 'h2', 'h2c'])
  .default('1.1')
  .describe(
    'HTTP version: 1.1; h2 (HTTP/2 over TLS, ALPN; needs https); h2c (cleartext HTTP/2 with prior knowledge; needs http)',
  );

export type TlsSpec = z.output<typeof tlsSchema>;
export type HttpVersion = z.output<typeof httpVersionSchema>;
