import fc from 'fast-check';
import type { PayloadVariant } from '../history/events.js';
import { PatternBuilder, type PlanContext } from '../plan/builder.js';
import type { PatternPlan, SendStep } from '../plan/schedule.js';
import type { Profile } from '../scenario/profile.js';
import type { LaneName, Scenario } from '../scenario/schema.js';
import { createRandom } from '../plan/random.js';

/**
 * A generated retry schedule: what property-based exploration feeds the target. Keys come from
 * a small pool so collisions happen; each request names its key slot, tenant, payload variant
 * and lane; steps wait a little, then send one request or release a burst together.
 */
export interface ScheduledRequest {
  /** Index into the run's key pool (0 = key A). */
  readonly key: number;
  /** Index into the scenario's tenants, or null for no tenant headers. */
  readonly tenant: number | null;
  readonly variant: PayloadVariant;
  readonly lane: LaneName;
}

export interface ScheduleStep {
  readonly delayMs: number;
  /** One request, or several released together. */
  readonly requests: readonly ScheduledRequest[];
}

export interface Schedule {
  readonly steps: readonly ScheduleStep[];
}

export interface ScheduleShape {
  readonly keys: number;
  readonly tenants: number;
  readonly lanes: readonly LaneName[];
  readonly maxSteps: number;
  readonly maxBurst: number;
  readonly maxDelayMs: number;
}

/**
 * The values each choice of a request may take, simplest first: fast-check shrinks a choice
 * to its first value. Tenants: the first declared tenant, then the others, then none (no
 * tenant headers); lanes: clean first; payload: the original (drawn three times in four).
 */
export interface ScheduleChoices {
  readonly tenants: readonly (number | null)[];
  readonly lanes: readonly LaneName[];
  readonly variants: readonly PayloadVariant[];
}

export function scheduleChoices(shape: ScheduleShape): ScheduleChoices {
  const tenants = Array.from({ length: Math.max(0, shape.tenants) }, (_none, index) => index);
  const lanes = shape.lanes.includes('clean')
    ? ['clean' as const, ...shape.lanes.filter((lane) => lane !== 'clean')]
    : [...shape.lanes];
  return {
    tenants: [...tenants, null],
    lanes,
    variants: ['original', 'original', 'original', 'different'],
  };
}

/**
 * Every choice is a plain value fast-check can shrink on its own, even in a schedule it did
 * not generate (one the removals below produced): the key toward A, the tenant, payload and
 * lane toward their first choice, delays toward 0, bursts and schedules toward fewer requests.
 */
export function scheduleArbitrary(shape: ScheduleShape): fc.Arbitrary<Schedule> {
  const choices = scheduleChoices(shape);
  const request: fc.Arbitrary<ScheduledRequest> = fc.record({
    key: fc.integer({ min: 0, max: Math.max(0, shape.keys - 1) }),
    tenant: fc.constantFrom(...choices.tenants),
    variant: fc.constantFrom(...choices.variants),
    lane: fc.constantFrom(...choices.lanes),
  });
  const step = fc.record({
    // Half the steps follow at once; the others after up to maxDelayMs.
    delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Math.max(1, shape.maxDelayMs) })),
    requests: fc.array(request, { minLength: 1, maxLength: shape.maxBurst }),
  });
  return new RemovalsFirst(
    fc.record({ steps: fc.array(step, { minLength: 1, maxLength: shape.maxSteps }) }),
    choices,
  );
}

/**
 * fast-check shrinks arrays from the front and never drops a trailing element, so a schedule
 * would keep steps that do not matter. This wrapper first offers the schedule without each
 * step, without each request of a burst, with each burst sent one request after another, and
 * with each delay at 0; then the whole schedule made simpler in one dimension at a time (see
 * simplificationCandidates); then fast-check's own shrinks, one choice of one request at a
 * time. The order is fixed, so a seed and path still replay one exact schedule.
 */
class RemovalsFirst extends fc.Arbitrary<Schedule> {
  constructor(
    private readonly inner: fc.Arbitrary<Schedule>,
    private readonly choices: ScheduleChoices,
  ) {
    super();
  }

  generate(random: fc.Random, biasFactor: number | undefined): fc.Value<Schedule> {
    return this.inner.generate(random, biasFactor);
  }

  canShrinkWithoutContext(value: unknown): value is Schedule {
    return this.inner.canShrinkWithoutContext(value);
  }

  shrink(value: Schedule, context: unknown): fc.Stream<fc.Value<Schedule>> {
    const removals = fc.Stream.of(
      ...[...removalCandidates(value), ...simplificationCandidates(value, this.choices)].map(
        (candidate) => new fc.Value(candidate, undefined),
      ),
    );
    const own =
      context !== undefined || this.inner.canShrinkWithoutContext(value)
        ? this.inner.shrink(value, context)
        : fc.Stream.nil<fc.Value<Schedule>>();
    return removals.join(own);
  }
}

/** Every request of the schedule rewritten by `change`. */
function mapRequests(
  schedule: Schedule,
  change: (request: ScheduledRequest) => ScheduledRequest,
): Schedule {
  return {
    steps: schedule.steps.map((step) => ({
      delayMs: step.delayMs,
      requests: step.requests.map(change),
    })),
  };
}

/** The value `names` gives `value`, or `value` itself (a name may be null: no tenant). */
function renamed<T>(names: Map<T, T> | undefined, value: T): T {
  return names?.has(value) === true ? (names.get(value) as T) : value;
}

/**
 * Values renamed in order of first use onto `targets`, so the first value used becomes the
 * simplest target and equal values stay equal: keys A and B used as "B, B, A" become "A, A, B".
 */
function relabel<T>(used: readonly T[], targets: readonly T[]): Map<T, T> | undefined {
  const distinct = [...new Set(used)];
  if (distinct.length > targets.length) return undefined;
  return new Map(distinct.map((value, index) => [value, targets[index] as T]));
}

/**
 * The whole schedule made simpler in one dimension at once, which shrinking one request at a
 * time cannot do when requests must agree (two requests racing on one key and tenant): every
 * request on the first lane, with the original payload, as the first tenant, on key A; tenants
 * and keys renamed in order of first use (keeping which requests share them); every delay 0.
 * Only candidates that differ from the schedule are offered.
 */
export function simplificationCandidates(schedule: Schedule, choices: ScheduleChoices): Schedule[] {
  const requests = schedule.steps.flatMap((step) => step.requests);
  const keys = requests.map((request) => request.key);
  const keyNames = relabel(
    keys,
    keys.map((_key, index) => index),
  );
  const tenantNames = relabel(
    requests.map((request) => request.tenant),
    choices.tenants,
  );
  const [lane = 'clean'] = choices.lanes;
  const [tenant = null] = choices.tenants;
  const candidates: Schedule[] = [
    mapRequests(schedule, (request) => ({ ...request, lane })),
    mapRequests(schedule, (request) => ({ ...request, variant: 'original' })),
    mapRequests(schedule, (request) => ({ ...request, tenant })),
    mapRequests(schedule, (request) => ({
      ...request,
      tenant: renamed(tenantNames, request.tenant),
    })),
    mapRequests(schedule, (request) => ({ ...request, key: 0 })),
    mapRequests(schedule, (request) => ({ ...request, key: renamed(keyNames, request.key) })),
    { steps: schedule.steps.map((step) => ({ ...step, delayMs: 0 })) },
  ];
  const seen = new Set([JSON.stringify(schedule)]);
  return candidates.filter((candidate) => {
    const text = JSON.stringify(candidate);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

export function removalCandidates(schedule: Schedule): Schedule[] {
  const { steps } = schedule;
  const candidates: Schedule[] = [];
  if (steps.length > 1) {
    steps.forEach((_step, index) =>
      candidates.push({ steps: steps.filter((_other, position) => position !== index) }),
    );
  }
  steps.forEach((step, index) => {
    if (step.requests.length > 1) {
      step.requests.forEach((_request, removed) => {
        const requests = step.requests.filter((_other, position) => position !== removed);
        candidates.push({
          steps: steps.map((other, position) =>
            position === index ? { ...other, requests } : other,
          ),
        });
      });
    }
  });
  // A burst may matter only for its order: offer it as sequential steps, in both orders.
  steps.forEach((step, index) => {
    if (step.requests.length > 1) {
      for (const order of [step.requests, [...step.requests].reverse()]) {
        const sequential = order.map((request, position) => ({
          delayMs: position === 0 ? step.delayMs : 0,
          requests: [request],
        }));
        candidates.push({
          steps: [...steps.slice(0, index), ...sequential, ...steps.slice(index + 1)],
        });
      }
    }
  });
  steps.forEach((step, index) => {
    if (step.delayMs > 0) {
      candidates.push({
        steps: steps.map((other, position) =>
          position === index ? { ...other, delayMs: 0 } : other,
        ),
      });
    }
  });
  return candidates;
}

const KEY_NAMES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function keyName(slot: number): string {
  return KEY_NAMES[slot] ?? `#${slot}`;
}

/** The schedule as numbered sentences, for people. */
export function describeSchedule(schedule: Schedule, tenants: readonly string[]): string[] {
  const request = (item: ScheduledRequest): string => {
    const who =
      item.tenant === null ? '' : ` as ${tenants[item.tenant] ?? `tenant ${item.tenant}`}`;
    const payload = item.variant === 'original' ? 'original payload' : 'different payload';
    return `key ${keyName(item.key)}${who}, ${payload}, ${item.lane} lane`;
  };
  return schedule.steps.map((step, index) => {
    const wait = step.delayMs > 0 ? `after ${step.delayMs} ms, ` : '';
    const [only] = step.requests;
    const what =
      step.requests.length === 1 && only !== undefined
        ? `send ${request(only)}`
        : `release ${step.requests.length} requests together: ${step.requests.map(request).join(' | ')}`;
    return `${index + 1}. ${wait}${what}`;
  });
}

/** How many requests a schedule sends. */
export function requestCount(schedule: Schedule): number {
  return schedule.steps.reduce((sum, step) => sum + step.requests.length, 0);
}

/**
 * The schedule as a plan the executor runs like any pattern: one operation per key slot (all
 * tenants share the key string and payload), effects probed per key and tenant at the end.
 */
export function planSchedule(
  schedule: Schedule,
  scenario: Scenario,
  profile: Profile,
  options: { readonly run: string; readonly seed: number },
): PatternPlan {
  let counter = 0;
  const context: PlanContext = {
    scenario,
    profile,
    run: options.run,
    random: createRandom(options.seed),
    nextNumber: () => (counter += 1),
  };
  const tenants = Object.keys(scenario.target.tenants);
  const builder = new PatternBuilder(
    context,
    { kind: 'sequential-duplicates', count: 2, lanes: ['clean'] },
    'schedule#1',
  );
  const slots =
    Math.max(0, ...schedule.steps.flatMap((step) => step.requests.map((item) => item.key))) + 1;
  const operations = Array.from({ length: slots }, () => builder.operation());
  const tenantOf = (index: number | null): string | null =>
    index === null ? null : (tenants[index] ?? null);
  const used = new Set<string>();
  schedule.steps.forEach((step, index) => {
    builder.sleep(step.delayMs);
    const sends: SendStep[] = step.requests.map((item, position) => {
      used.add(`${item.key}\n${item.tenant ?? ''}`);
      return builder.sendStep(operations[item.key] ?? 0, {
        label: `step ${index + 1}${step.requests.length > 1 ? `.${position + 1}` : ''}`,
        variant: item.variant,
        lane: item.lane,
        tenant: tenantOf(item.tenant),
        group: step.requests.length > 1 ? `step-${index + 1}` : null,
      });
    });
    const [only] = sends;
    if (sends.length === 1 && only !== undefined) builder.send(only.op, only);
    else builder.burst(sends);
  });
  builder.join().sleep(scenario.settleMs);
  for (const entry of used) {
    const [slot = '0', tenant = ''] = entry.split('\n');
    const label = `effects of key ${keyName(Number(slot))}`;
    builder.probeEffects(
      operations[Number(slot)] ?? 0,
      label,
      tenant === '' ? null : tenantOf(Number(tenant)),
      false,
    );
  }
  const plan = builder.build();
  return { ...plan, kind: 'schedule', name: 'generated schedule' };
}
