import type { HistoryEvent, ProbeEvent } from '../history/events.js';
import { scopeId } from './scope.js';

/**
 * What the effect probe says about one scope (or one marker, for requests sent without a
 * key): the LAST `effects` reading decides. A failed or missing reading makes the count
 * unknown; a checker never guesses a number.
 */
export type EffectCount =
  | { readonly known: true; readonly count: number; readonly probe: ProbeEvent }
  | { readonly known: false; readonly reason: string; readonly probe: ProbeEvent | undefined };

export interface EffectReadings {
  readonly ofScope: (key: string, tenant: string | null) => EffectCount;
  readonly ofMarker: (marker: string) => EffectCount;
}

export function countOf(probe: ProbeEvent | undefined, missing: string): EffectCount {
  if (probe === undefined) return { known: false, reason: missing, probe };
  const reading = probe.reading;
  if (!reading.ok) {
    return { known: false, reason: `the effect probe failed: ${reading.error}`, probe };
  }
  if (!('count' in reading) || typeof reading.count !== 'number' || reading.count < 0) {
    return { known: false, reason: 'the effect probe returned no count', probe };
  }
  return { known: true, count: reading.count, probe };
}

/** Indexes the last effect reading of every scope and every marker in one pass. */
export function effectReadings(history: readonly HistoryEvent[]): EffectReadings {
  const byScope = new Map<string, ProbeEvent>();
  const byMarker = new Map<string, ProbeEvent>();
  for (const event of history) {
    if (event.type !== 'probe' || event.probe !== 'effects') continue;
    if (event.key !== null) byScope.set(scopeId(event.key, event.tenant), event);
    else if (event.marker !== null) byMarker.set(event.marker, event);
  }
  return {
    ofScope: (key, tenant) =>
      countOf(byScope.get(scopeId(key, tenant)), 'no effect reading was recorded'),
    ofMarker: (marker) =>
      countOf(
        byMarker.get(marker),
        'the effect probe has no {marker} to count keyless requests (add {marker} to the ' +
          "probe's query or URL)",
      ),
  };
}
