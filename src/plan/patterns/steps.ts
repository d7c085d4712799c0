import type { PatternBuilder } from '../builder.js';
import type { BodyRule, HeaderRule, StatusRule, StepExpectation } from '../expectations.js';
import type { RequestOverride } from '../schedule.js';
import type { Profile } from '../../scenario/profile.js';
import type { PatternSpec } from '../../scenario/schema.js';

type Spec = Extract<PatternSpec, { kind: 'steps' }>;
type StepSpec = Spec['steps'][number];
type ExpectSpec = NonNullable<StepSpec['expect']>;

/**
 * 12. A script: each step is one request, a change to the scenario's request, sent in order.
 * A step named in a later step's `concurrentWith` is sent in the background; the later step
 * waits its `delayMs`, is sent while they are in flight, and the group is then awaited. After
 * a step (or its group) that expects an effect count, the effect probe reads it.
 *
 * Must not: judge anything (the stepExpectations checker does) or read the clock.
 */
export function scriptedSteps(plan: PatternBuilder, spec: Spec): void {
  const background = new Set(spec.steps.flatMap((step) => step.concurrentWith ?? []));
  const labels = new Map<string, { step: number; label: string }>();
  /** Effect readings of background steps, taken once their group has been awaited. */
  const deferred: { op: number; label: string; tenant: string | null }[] = [];
  let op = plan.operation();
  spec.steps.forEach((step, index) => {
    if (step.key === 'new') op = plan.operation();
    const label = `step ${index + 1} (${step.id})`;
    labels.set(step.id, { step: index + 1, label });
    const tenant = step.tenant ?? plan.tenant;
    const inBackground = background.has(step.id);
    const override = overrideOf(step);
    plan.sleep(step.delayMs);
    plan.send(op, {
      label,
      lane: step.lane,
      tenant,
      keySent: step.key !== 'none',
      background: inBackground,
      ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      ...(override === undefined ? {} : { override }),
    });
    const probeLabel = `after ${label}`;
    if (step.concurrentWith !== undefined) plan.join();
    if (step.expect?.effects !== undefined) {
      if (inBackground) deferred.push({ op, label: probeLabel, tenant });
      else plan.probeEffects(op, probeLabel, tenant);
    }
    if (step.concurrentWith !== undefined) {
      for (const reading of deferred.splice(0))
        plan.probeEffects(reading.op, reading.label, reading.tenant);
    }
    if (step.expect !== undefined)
      plan.expect(
        expectationOf(
          step.expect,
          plan.context.profile,
          { index, id: step.id, label, probeLabel },
          labels,
        ),
      );
  });
}

/** The changes a step makes to the scenario's request; undefined when it makes none. */
export function overrideOf(step: StepSpec): RequestOverride | undefined {
  const override: {
    -readonly [K in keyof RequestOverride]: RequestOverride[K];
  } = {};
  if (step.method !== undefined) override.method = step.method;
  if (step.path !== undefined) override.path = step.path;
  if (step.query !== undefined) override.query = step.query;
  if (step.headers !== undefined) override.headers = step.headers;
  if (step.body !== undefined || step.encoding !== undefined) {
    override.body = {
      value: step.body,
      ...(step.encoding === undefined ? {} : { encoding: step.encoding }),
    };
  }
  if (typeof step.key === 'object') override.key = step.key.literal;
  return Object.keys(override).length === 0 ? undefined : override;
}

export function statusRuleOf(
  status: NonNullable<ExpectSpec['status']>,
  profile: Profile,
): StatusRule {
  if (typeof status === 'number') return { allowed: [status], source: null };
  if (Array.isArray(status)) return { allowed: status, source: null };
  const from = (field: string): string => `profile ${profile.name} ${field}`;
  switch (status) {
    case '2xx':
      return { allowed: 'success', source: null };
    case 'mismatch':
      return { allowed: profile.mismatchStatus, source: from('mismatchStatus') };
    case 'in-flight':
      return { allowed: profile.inFlightStatus, source: from('inFlightStatus') };
    case 'missing-key':
      return profile.missingKey.expect === 'refused'
        ? { allowed: profile.missingKey.status, source: from('missingKey.status') }
        : { allowed: 'success', source: from('missingKey: processed') };
  }
}

function headerRulesOf(headers: ExpectSpec['headers']): HeaderRule[] {
  return Object.entries(headers ?? {}).map(([written, rule]): HeaderRule => {
    const name = written.toLowerCase();
    if (typeof rule === 'string') return { name, rule: 'equals', value: rule };
    if ('present' in rule) return { name, rule: 'present' };
    if ('absent' in rule) return { name, rule: 'absent' };
    if ('equals' in rule) return { name, rule: 'equals', value: rule.equals };
    return { name, rule: 'matches', pattern: rule.matches };
  });
}

function bodyRulesOf(
  body: ExpectSpec['body'],
  labels: ReadonlyMap<string, { step: number; label: string }>,
): BodyRule[] {
  if (body === undefined) return [];
  const rules: BodyRule[] = [];
  if (body.sameAs !== undefined) {
    const earlier = labels.get(body.sameAs);
    // The schema refuses a sameAs that names no earlier step.
    if (earlier !== undefined) rules.push({ rule: 'same-as', id: body.sameAs, ...earlier });
  }
  if (body.equals !== undefined) rules.push({ rule: 'equals', text: body.equals });
  for (const text of body.contains ?? []) rules.push({ rule: 'contains', text });
  for (const [path, value] of Object.entries(body.json ?? {}))
    rules.push({ rule: 'json', path, value });
  if (body.bytes !== undefined) rules.push({ rule: 'bytes', bytes: body.bytes });
  return rules;
}

function expectationOf(
  expect: ExpectSpec,
  profile: Profile,
  at: { index: number; id: string; label: string; probeLabel: string },
  labels: ReadonlyMap<string, { step: number; label: string }>,
): StepExpectation {
  return {
    step: at.index + 1,
    id: at.id,
    label: at.label,
    status: expect.status === undefined ? null : statusRuleOf(expect.status, profile),
    headers: headerRulesOf(expect.headers),
    body: bodyRulesOf(expect.body, labels),
    effects:
      expect.effects === undefined ? null : { count: expect.effects, probeLabel: at.probeLabel },
  };
}
