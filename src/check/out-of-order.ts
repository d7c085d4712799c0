import { attemptsOf, type HistoryEvent, type ProbeEvent } from '../history/events.js';
import { describeAttempt, eventsOf } from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { describeJsonDifferences, jsonDifferences } from './json-diff.js';
import { canonicalJson } from './json-value.js';
import { listWithMore, shorten } from './wording.js';

/**
 * outOfOrderFinalState: for each resource, the state after the scenario's late duplicates
 * ('final state') equals the state the same operations produce in order ('in-order state').
 * A difference means a late duplicate re-applied an old transition (state regressed).
 *
 * Must not: compare anything but the two readings, or decide without both (missing or failed
 * readings make the resource unknown).
 */
/** How an absent resource (404) reads in comparisons and messages. */
const ABSENT_STATE = '(absent: 404)';
const IN_ORDER = 'in-order state';
const FINAL = 'final state';

type StateReading =
  | { readonly ok: true; readonly state: unknown; readonly probe: ProbeEvent }
  | { readonly ok: false; readonly reason: string };

function readingOf(probes: readonly ProbeEvent[], label: string): StateReading {
  const probe = probes.filter((p) => p.label.trim().toLowerCase() === label).at(-1);
  if (probe === undefined) return { ok: false, reason: `no '${label}' reading was recorded` };
  if (!probe.reading.ok)
    return { ok: false, reason: `the '${label}' reading failed: ${probe.reading.error}` };
  if (!('state' in probe.reading))
    return { ok: false, reason: `the '${label}' reading holds no state` };
  // A resource that answered 404 is absent: a state of its own, not a failed reading.
  const absent = 'absent' in probe.reading && probe.reading.absent === true;
  return { ok: true, state: absent ? ABSENT_STATE : probe.reading.state, probe };
}

function judge(
  resource: string,
  probes: readonly ProbeEvent[],
  history: readonly HistoryEvent[],
  findings: Findings,
): void {
  findings.checked += 1;
  const inOrder = readingOf(probes, IN_ORDER);
  const final = readingOf(probes, FINAL);
  if (!inOrder.ok || !final.ok) {
    const reasons = [inOrder, final].flatMap((r) => (r.ok ? [] : [r.reason]));
    findings.unknowns.push({
      subject: `resource '${resource}'`,
      reason: `its final state cannot be judged: ${reasons.join('; ')}`,
    });
    return;
  }
  if (canonicalJson(inOrder.state) === canonicalJson(final.state)) return;
  const differences = describeJsonDifferences(jsonDifferences(inOrder.state, final.state));
  const late = attemptsOf(history).filter(
    (a) => a.invoke.resource === resource && a.invoke.label.toLowerCase().includes('late'),
  );
  const culprits =
    late.length === 0
      ? 'No attempt on it was labelled late, so look at every attempt on this resource'
      : `Late duplicates on it: ${listWithMore(late.map(describeAttempt), 3)}`;
  const first = late[0];
  addAnomaly(findings, {
    kind: 'state-regressed',
    key: first?.invoke.key ?? null,
    tenant: first?.invoke.tenant ?? null,
    events: [inOrder.probe.index, final.probe.index, ...eventsOf(...late)],
    expected: `the in-order state: ${shorten(canonicalJson(inOrder.state), 200)}`,
    actual: `${differences} (in-order vs final)`,
    ...(first === undefined ? {} : { curl: curlCommand(first.invoke.request) }),
    message:
      `Resource '${resource}' ended in a different state than the same operations produce in ` +
      `order (in order vs final: ${differences}). ${culprits}. A late duplicate re-applied an ` +
      'old transition; a retry of an operation already done must replay its stored response, ' +
      'never run again.',
  });
}

export const outOfOrderFinalState = defineChecker(
  'outOfOrderFinalState',
  'no resource state was read (no out-of-order pattern in this scenario)',
  (history, _context, findings) => {
    const byResource = new Map<string, ProbeEvent[]>();
    for (const event of history) {
      if (event.type !== 'probe' || event.probe !== 'state' || event.resource === null) continue;
      byResource.set(event.resource, [...(byResource.get(event.resource) ?? []), event]);
    }
    for (const [resource, probes] of byResource) judge(resource, probes, history, findings);
  },
);
