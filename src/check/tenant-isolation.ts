import { attemptsOf } from '../history/events.js';
import {
  eventsOf,
  isSuccess,
  respondedOf,
  responseHeader,
  type Responded,
} from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { addAnomaly, defineChecker } from './findings.js';
import { byScope, type Scope } from './scope.js';
import { capitalize, shortDigest, tenantName } from './wording.js';

/**
 * tenantIsolation: when two tenants use the same key, neither gets the other's result. A 2xx
 * whose body is byte-identical to a response another tenant got earlier for that key, or the
 * same Location header, means the key store is not scoped by tenant.
 *
 * Must not: raise a false alarm on bodies that do not identify an operation. If, within one
 * tenant, two different keys got byte-identical 2xx bodies anywhere in the history (e.g.
 * `{"status":"ok"}`), body identity is no evidence and the key's result is unknown; an empty
 * body is never evidence. Location identity always counts.
 */
interface Match {
  readonly owner: Responded;
  readonly receiver: Responded;
  readonly by: 'body' | 'location';
}

/** True when some tenant got byte-identical 2xx bodies for two different keys. */
function bodiesAreGeneric(scopes: readonly Scope[]): boolean {
  const keysByBody = new Map<string, string>();
  for (const scope of scopes) {
    for (const responded of scope.attempts.map(respondedOf)) {
      if (responded === undefined || !isSuccess(responded.status)) continue;
      const id = JSON.stringify([scope.tenant ?? '', responded.response.bodySha256]);
      const seen = keysByBody.get(id);
      if (seen !== undefined && seen !== scope.key) return true;
      keysByBody.set(id, scope.key);
    }
  }
  return false;
}

function findMatch(
  owners: readonly Responded[],
  receivers: readonly Responded[],
  by: Match['by'],
): Match | undefined {
  for (const receiver of receivers) {
    if (!isSuccess(receiver.status)) continue;
    const location = responseHeader(receiver.response, 'location');
    for (const owner of owners) {
      if (owner.completion.index > receiver.completion.index) continue;
      const same =
        by === 'body'
          ? receiver.response.bodyBytes > 0 &&
            owner.response.bodySha256 === receiver.response.bodySha256
          : location !== undefined && responseHeader(owner.response, 'location') === location;
      if (same) return { owner, receiver, by };
    }
  }
  return undefined;
}

/** The first response one tenant got that another tenant had got before it, by `by`. */
function firstMatch(responses: readonly Responded[][], by: Match['by']): Match | undefined {
  for (const [i, owners] of responses.entries()) {
    for (const [j, receivers] of responses.entries()) {
      const match = i === j ? undefined : findMatch(owners, receivers, by);
      if (match !== undefined) return match;
    }
  }
  return undefined;
}

export const tenantIsolation = defineChecker(
  'tenantIsolation',
  'no key was used by two tenants',
  (history, _context, findings) => {
    const scopes = byScope(attemptsOf(history));
    const generic = bodiesAreGeneric(scopes);
    const byKey = new Map<string, Scope[]>();
    for (const scope of scopes) byKey.set(scope.key, [...(byKey.get(scope.key) ?? []), scope]);
    for (const [key, shared] of byKey) {
      if (shared.length < 2) continue;
      findings.checked += 1;
      const responses = shared.map((scope) =>
        scope.attempts.map(respondedOf).filter((r): r is Responded => r !== undefined),
      );
      const byBody = firstMatch(responses, 'body');
      const found = (generic ? undefined : byBody) ?? firstMatch(responses, 'location');
      if (found === undefined) {
        if (byBody !== undefined) {
          findings.unknowns.push({
            subject: `key '${key}'`,
            reason:
              'two tenants got byte-identical 2xx bodies, but here bodies do not identify an ' +
              'operation (one tenant got the same body for two different keys), so that is no ' +
              'evidence of a leak',
          });
        }
        continue;
      }
      const owner = tenantName(found.owner.attempt.invoke.tenant);
      const receiver = tenantName(found.receiver.attempt.invoke.tenant);
      const location = responseHeader(found.receiver.response, 'location');
      const evidence =
        found.by === 'location'
          ? `both got Location '${location ?? ''}'`
          : `${receiver} got ${found.receiver.status} with the same bytes ${owner} got (sha256 ${shortDigest(found.receiver.response.bodySha256)})`;
      addAnomaly(findings, {
        kind: 'cross-tenant-replay',
        key,
        tenant: found.receiver.attempt.invoke.tenant,
        events: eventsOf(found.owner.attempt, found.receiver.attempt),
        expected: `${receiver} gets its own result for key '${key}'`,
        actual: evidence,
        curl: curlCommand(found.receiver.attempt.invoke.request),
        message: `${capitalize(receiver)} received ${owner}'s response for key '${key}': ${evidence}. The key store is not scoped by tenant, so one customer can read another's result, and ${receiver}'s own request may never have run. Scope idempotency records by (tenant, key).`,
      });
    }
  },
);
