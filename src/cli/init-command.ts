import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { stringify } from 'yaml';
import { IdemproofError, describeError } from '../errors.js';
import { PACKAGE_ROOT } from '../provision/tools-dir.js';
import { isLoopback } from '../run/blast-radius.js';
import { parseTarget } from '../run/run-scenario.js';
import type { Output } from './output.js';
import { validateFiles } from './validate-command.js';

export interface InitCommandOptions {
  readonly target: string;
  readonly out?: string;
  readonly force?: boolean;
  readonly path?: string;
  readonly keyHeader?: string;
}

/** What `init` fills into the template. */
export interface StarterOptions {
  /** The target's base URL (http://). */
  readonly target: string;
  /** The `$schema` reference written into the editor modeline. */
  readonly schema: string;
  /** The endpoint's path, e.g. /v1/orders (the template's when undefined). */
  readonly path?: string | undefined;
  /** The key header, e.g. PayPal-Request-Id (the template's when undefined). */
  readonly keyHeader?: string | undefined;
}

export const DEFAULT_INIT_FILE = 'idemproof.yaml';
export const TEMPLATE_FILE = join(PACKAGE_ROOT, 'scenarios', 'template', 'my-api.yaml');
export const SCHEMA_FILE = join(PACKAGE_ROOT, 'scenarios', 'scenario.schema.json');
/** The template's endpoint path, also the prefix of its effect probe's URL. */
const TEMPLATE_PATH = '/v1/orders';
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The starter scenario: the commented template with the target, the schema modeline and,
 * when given, the endpoint path and key header filled in. A target outside loopback is
 * listed under `allowHosts`, with a comment saying why. Pure: the template is an argument.
 */
export function starterScenario(template: string, options: StarterOptions): string {
  const url = new URL(options.target);
  let text = replaceOnce(
    template,
    /^# yaml-language-server: \$schema=.*$/m,
    `# yaml-language-server: $schema=${options.schema}`,
  );
  text = replaceOnce(
    text,
    /^# A scenario for your own API: copy this file, fill in the blanks, then run\n# {3}npx idemproof run my-api\.yaml --target http:\/\/127\.0\.0\.1:8080$/m,
    [
      `# A scenario for ${url.host}, written by \`idemproof init\`. Fill in the blanks (the`,
      '# payload, the effect probe, the patterns that apply), then',
      '#   npx idemproof validate <this file>      # checks it, sends nothing',
      '#   npx idemproof run <this file>',
    ].join('\n'),
  );
  const name = `${url.host} ${options.path ?? TEMPLATE_PATH}`;
  text = replaceOnce(text, /^name: .+?(?= #)/m, `name: ${scalar(name)}`);
  text = replaceOnce(text, /^ {2}baseUrl: \S+/m, `  baseUrl: ${scalar(options.target)}`);
  const path = options.path;
  if (path !== undefined) {
    text = replaceOnce(text, /^ {2}path: \S+/m, `  path: ${scalar(path)}`);
    // The effect probe's guess (GET the endpoint, filtered by key) follows a plain path.
    if (!path.includes('{{')) text = text.replaceAll(`'${TEMPLATE_PATH}?`, () => `'${path}?`);
  }
  if (options.keyHeader !== undefined) {
    text = replaceOnce(text, /^ {2}header: \S+/m, `  header: ${scalar(options.keyHeader)}`);
  }
  if (!isLoopback(url.hostname)) {
    text = replaceOnce(
      text,
      /^ {2}allowHosts: \[\].*$/m,
      [
        `  # ${url.hostname} is outside loopback: idemproof sends chaos traffic only to hosts named`,
        '  # here or with --allow-host, so that a typo cannot aim it at production.',
        `  allowHosts: [${scalar(url.hostname)}]`,
      ].join('\n'),
    );
  }
  return text;
}

function replaceOnce(text: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_INTERNAL',
      `the scenario template ${TEMPLATE_FILE} no longer has a line matching ${pattern.source}`,
    );
  }
  return text.replace(pattern, () => replacement);
}

/** A YAML plain or quoted scalar for one value, on one line. */
function scalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/**
 * How the modeline names the schema shipped in the package: relative to the scenario file
 * (yaml-language-server resolves a relative `$schema` from the file that holds it), so the
 * reference works in every checkout that installs idemproof at the same place.
 */
export function schemaReference(outFile: string, schemaFile: string = SCHEMA_FILE): string {
  const path = relative(dirname(resolve(outFile)), schemaFile)
    .split(sep)
    .join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** Refuses what would make a starter that does not load: bad URL, path or header name. */
function checkOptions(options: InitCommandOptions): void {
  parseTarget(options.target);
  if (options.path !== undefined && !options.path.startsWith('/')) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `--path '${options.path}': expected a path starting with /, e.g. /v1/orders`,
    );
  }
  if (options.keyHeader !== undefined && !HEADER_NAME.test(options.keyHeader)) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `--key-header '${options.keyHeader}': expected an HTTP header name, e.g. Idempotency-Key`,
    );
  }
}

/** Throws a usage error naming the problem unless `text` validates (in a temporary folder). */
async function assertValid(text: string): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'idemproof-init-'));
  try {
    const file = join(folder, DEFAULT_INIT_FILE);
    await writeFile(file, text);
    const [result] = await validateFiles([file]);
    if (result?.valid !== true) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        `the starter scenario for these options does not validate: ${result?.error ?? 'no result'}`,
      );
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * `idemproof init --target URL`: writes a commented starter scenario (default idemproof.yaml)
 * that passes `idemproof validate`. Refuses to overwrite a file unless --force.
 */
export async function initCommand(options: InitCommandOptions, output: Output): Promise<void> {
  checkOptions(options);
  const out = options.out ?? DEFAULT_INIT_FILE;
  const text = starterScenario(await readFile(TEMPLATE_FILE, 'utf8'), {
    target: options.target,
    schema: schemaReference(out),
    path: options.path,
    keyHeader: options.keyHeader,
  });
  await assertValid(text);
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(out, text, { flag: options.force === true ? 'w' : 'wx' }).catch(
    (error: unknown) => {
      const exists = (error as { code?: unknown }).code === 'EEXIST';
      throw new IdemproofError(
        'IDEMPROOF_ERR_USAGE',
        exists
          ? `${out} already exists; pass --force to overwrite it, or --out to write elsewhere`
          : `cannot write ${out}: ${describeError(error)}`,
        { cause: error },
      );
    },
  );
  output.result(
    [
      `wrote ${out}: a starter scenario for ${options.target}`,
      'next: fill in the payload and the effect probe, then',
      `  idemproof validate ${out}`,
      `  idemproof run ${out}`,
    ].join('\n'),
  );
}
