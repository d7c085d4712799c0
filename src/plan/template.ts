import {
  INT_RANGE_RULE,
  PICK_RULE,
  PLACEHOLDER,
  isIntRange,
  type TemplateVariable,
} from '../scenario/templates.js';
import { differentParts } from '../scenario/schema-request.js';
import { differentBody } from './body.js';
import type { Random } from './random.js';
import type { BodyEncoding } from './schedule.js';

/** The values a template may use (the loader has checked that templates name only these). */
export type TemplateVars = Readonly<Record<TemplateVariable, string>>;

export class TemplateError extends Error {}

/** Replaces {{name}} in `text`; `encode` is applied to each value (e.g. for URLs). */
export function fillText(
  text: string,
  vars: TemplateVars,
  encode: (value: string) => string = (value) => value,
): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    if (!Object.hasOwn(vars, name)) {
      throw new TemplateError(
        `unknown template variable {{${name}}} in "${text}"; known: ${Object.keys(vars).join(', ')}`,
      );
    }
    return encode(vars[name as keyof TemplateVars]);
  });
}

/** Fills a URL template: values are percent-encoded. */
export function fillUrl(text: string, vars: TemplateVars): string {
  return fillText(text, vars, encodeURIComponent);
}

/**
 * Fills a JSON payload template: strings are templated; `{$int: [min, max]}` and
 * `{$pick: [...]}` leaves are drawn from the seeded random source.
 */
export function fillPayload(value: unknown, vars: TemplateVars, random: Random): unknown {
  if (typeof value === 'string') return fillText(value, vars);
  if (Array.isArray(value)) return value.map((item) => fillPayload(item, vars, random));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === '$int') return drawInt(record.$int);
    if (keys.length === 1 && keys[0] === '$pick') {
      const options = record.$pick;
      if (!Array.isArray(options) || options.length === 0) throw new TemplateError(PICK_RULE);
      return fillPayload(random.pick(options), vars, random);
    }
    return Object.fromEntries(keys.map((key) => [key, fillPayload(record[key], vars, random)]));
  }
  return value;

  function drawInt(range: unknown): number {
    if (!isIntRange(range)) throw new TemplateError(INT_RANGE_RULE);
    const [min, max] = range;
    return random.int(Math.min(min, max), Math.max(min, max));
  }
}

/** Fills the strings of a body that was drawn already (no {$int} or {$pick} left in it). */
export function fillStrings(value: unknown, vars: TemplateVars): unknown {
  return fillPayload(value, vars, NO_DRAWS);
}

/** The random source of a body filled at send time: drawing from it is a mistake. */
const NO_DRAWS: Random = {
  next: drawn,
  int: drawn,
  pick: drawn,
  fork: () => NO_DRAWS,
};

function drawn(): never {
  throw new TemplateError('{$int: …} and {$pick: …} are drawn when the plan is built, not later');
}

/**
 * The body of the different request under the same key, in the payload's encoding: with
 * `different.fields` (or the older form, fields alone) those fields merged over the payload;
 * with only other parts changed (query, path, headers: `parts` without fields), the same
 * payload; with no `different`, one value changed (see `differentBody`).
 */
export function differentPayload(
  payload: unknown,
  different: Record<string, unknown> | undefined,
  encoding: BodyEncoding = 'json',
): unknown {
  const parts = differentParts(different);
  if (parts !== undefined && parts.fields === undefined) return payload;
  if (parts?.fields !== undefined) {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
      return { value: payload, idemproof_variant: 'different' };
    return { ...(payload as Record<string, unknown>), ...parts.fields };
  }
  return differentBody(payload, encoding, changeOneField);
}

/**
 * The first top-level number increased by 1 (or set to 0 past 2^53), else the first string
 * with a suffix, else a field added.
 */
function changeOneField(record: Record<string, unknown>): Record<string, unknown> {
  const numeric = Object.keys(record).find((key) => typeof record[key] === 'number');
  if (numeric !== undefined) {
    const value = record[numeric] as number;
    // Beyond 2^53, +1 does not change a float: use 0 then, which surely differs.
    return { ...record, [numeric]: value + 1 !== value ? value + 1 : 0 };
  }
  const text = Object.keys(record).find((key) => typeof record[key] === 'string');
  if (text !== undefined) return { ...record, [text]: `${record[text] as string}-different` };
  return { ...record, idemproof_variant: 'different' };
}
