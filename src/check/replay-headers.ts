import type { RecordedResponse } from '../history/events.js';
import type { Profile } from '../scenario/profile.js';
import { responseHeader } from './attempt-outcome.js';
import { shorten } from './wording.js';

/**
 * Header rules of a replay: the profile's significant headers must be repeated exactly (a
 * header the first response lacked must stay absent), and the replay header, when the profile
 * names one, must be present with its value (compared case-insensitively).
 *
 * Must not: compare headers the profile does not name, or ones it says to ignore.
 */
function shown(value: string | undefined): string {
  return value === undefined ? '(absent)' : `'${shorten(value, 60)}'`;
}

/** "location: '/payments/p1' vs (absent)", one per significant header that differs. */
export function headerDifferences(
  first: RecordedResponse,
  replay: RecordedResponse,
  profile: Profile,
): string[] {
  const ignored = new Set(profile.replayIgnore.headers.map((name) => name.toLowerCase()));
  const names = [...new Set(profile.significantHeaders.map((name) => name.toLowerCase()))];
  return names
    .filter((name) => !ignored.has(name))
    .flatMap((name) => {
      const a = responseHeader(first, name);
      const b = responseHeader(replay, name);
      return a === b ? [] : [`${name}: ${shown(a)} vs ${shown(b)}`];
    });
}

/** What was found instead of the replay header ("no such header", "'name: false'"), or undefined. */
export function replayMarkerProblem(
  response: RecordedResponse,
  marker: NonNullable<Profile['replayHeader']>,
): string | undefined {
  const value = responseHeader(response, marker.name);
  if (value === undefined) return 'no such header';
  if (value.trim().toLowerCase() === marker.value.trim().toLowerCase()) return undefined;
  return `'${marker.name.toLowerCase()}: ${shorten(value, 60)}'`;
}
