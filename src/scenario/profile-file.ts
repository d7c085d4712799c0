import { createHash } from 'node:crypto';
import { extname, sep } from 'node:path';
import { IdemproofError } from '../errors.js';
import { displayPath, readScenarioText } from './files.js';
import {
  formatIssues,
  missingFieldMessage,
  parseYamlText,
  plainData,
  type LoadedScenario,
} from './load.js';
import { PROFILES, overrideProfile, profileByName, type Profile } from './profile.js';
import { profileFileSchema, type ProfileFields } from './profile-schema.js';

/**
 * Profiles from where a user names them: a built-in name (`--profile ietf`) or a profile file
 * (`--profile ./acme.yaml`, YAML or JSON in the model of profile-schema.ts), each with its
 * source and SHA-256 for reports and certificates; and a scenario's overrides laid over a
 * profile, naming the fields they replaced.
 *
 * Precedence: `--profile` on the command line wins over a scenario's `profile:` (a built-in
 * name, or a profile file relative to the scenario, which the loader reads with
 * `loadProfileFile`), which wins over the default; a scenario's `overrides` win over the
 * profile they are laid on, whichever named it.
 *
 * Must not: read a file other than through the scenario reader (regular files, size limits),
 * or hold a profile's values (profile.ts does).
 */

const PROFILE_FILE_EXTENSIONS: ReadonlySet<string> = new Set(['.yaml', '.yml', '.json']);

/** Does a `--profile` value name a file (a path separator, or a .yaml/.yml/.json ending)? */
export function isProfilePath(value: string): boolean {
  return value.includes('/') || value.includes(sep) || PROFILE_FILE_EXTENSIONS.has(extname(value));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A built-in profile with its source ('built-in') and the SHA-256 of its JSON. */
export function builtInProfile(name: string): Profile {
  const profile = profileByName(name);
  return { ...profile, source: 'built-in', sha256: sha256(JSON.stringify(profile)) };
}

/** A profile file, validated; errors name file:line:col and the field. */
export async function loadProfileFile(path: string): Promise<Profile> {
  const file = displayPath(path);
  const text = await readScenarioText(path);
  const yaml = parseYamlText(text, file);
  const parsed = profileFileSchema.safeParse(plainData(yaml, file), {
    error: missingFieldMessage,
  });
  if (!parsed.success) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      formatIssues(file, parsed.error.issues, yaml, 'profile'),
    );
  }
  const {
    $schema: _schema,
    description: _description,
    extends: base,
    name,
    ...fields
  } = parsed.data;
  // Without `extends`, the fields the built-ins differ in are required (the schema says so);
  // the others start from the neutral values every built-in shares.
  return {
    ...overrideProfile(PROFILES[base ?? 'default'], { ...fields, name }),
    source: file,
    sha256: sha256(text),
  };
}

/** `--profile`'s value: a profile file when it looks like a path, else a built-in name. */
export async function loadProfileOption(value: string): Promise<Profile> {
  return isProfilePath(value) ? loadProfileFile(value) : builtInProfile(value);
}

/**
 * `overrides` laid over `base` (they win), with `overridden` naming the fields whose value
 * they changed. `base` is a profile, or a built-in profile's name.
 */
export function withScenarioOverrides(
  base: Profile | string,
  overrides: Partial<ProfileFields>,
): Profile {
  const profile = typeof base === 'string' ? builtInProfile(base) : base;
  const merged = overrideProfile(profile, overrides);
  const overridden = (Object.keys(overrides) as (keyof ProfileFields)[]).filter(
    (field) =>
      overrides[field] !== undefined &&
      JSON.stringify(merged[field]) !== JSON.stringify(profile[field]),
  );
  return { ...merged, overridden };
}

/**
 * The one-line notice that a scenario's overrides replaced fields of the `--profile` profile,
 * or undefined when they replaced none.
 */
export function overrideNotice(scenario: string, profile: Profile): string | undefined {
  const fields = profile.overridden ?? [];
  if (fields.length === 0) return undefined;
  return `scenario '${scenario}' overrides ${fields.join(', ')} of profile '${profile.name}' (${profile.source ?? 'built-in'}): the scenario's values win`;
}

/**
 * The notices of a run with `--profile`: one per scenario that names a profile file of its own
 * (`--profile` wins over it), and one per scenario whose overrides replace its fields.
 */
export function profileNotices(
  loaded: readonly LoadedScenario[],
  profile: Profile | undefined,
): string[] {
  if (profile === undefined) return [];
  return loaded.flatMap(({ scenario, profileFile }) => {
    const replaced =
      profileFile === undefined
        ? undefined
        : `scenario '${scenario.name}' names profile '${profileFile.name}' (${profileFile.source ?? scenario.profile}); --profile '${profile.name}' (${profile.source ?? 'built-in'}) wins`;
    const notice = overrideNotice(
      scenario.name,
      withScenarioOverrides(profile, scenario.overrides),
    );
    return [replaced, notice].filter((line): line is string => line !== undefined);
  });
}
