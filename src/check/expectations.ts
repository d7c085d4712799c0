import { createHash } from 'node:crypto';
import { attemptsOf, type Attempt, type HistoryEvent, type ProbeEvent } from '../history/events.js';
import type { BodyRule, HeaderRule, StatusRule, StepExpectation } from '../plan/expectations.js';
import type { PatternPlan } from '../plan/schedule.js';
import {
  describeOutcome,
  eventsOf,
  isSuccess,
  respondedOf,
  responseHeader,
  type Responded,
} from './attempt-outcome.js';
import { curlCommand } from './curl.js';
import { addAnomaly, defineChecker, type Findings } from './findings.js';
import { isJsonObject, jsonEqual, parseJson } from './json-value.js';
import { plural, shorten, statusList } from './wording.js';

/**
 * stepExpectations: every step of a scripted (`steps`) pattern got what the scenario says it
 * must: a status, response headers present, absent, equal or matching, a body equal to a text
 * or to an earlier step's bytes, containing texts, with JSON members or a length, and the
 * effect count read once the step (or its concurrent group) ended. Findings read "step 2
 * (duplicate) expected 409, got 200".
 *
 * Must not: judge a step that got no response (a lane may lose it on purpose: unknown), guess
 * from a body cut for the record, or look at patterns that stated no expectation.
 */

const slot = (pattern: string, label: string): string => `${pattern}\n${label}`;

interface StepContext {
  readonly plan: PatternPlan;
  readonly expectation: StepExpectation;
  readonly attempts: ReadonlyMap<string, Attempt>;
  readonly findings: Findings;
}

function stepName(context: StepContext): string {
  const { plan, expectation } = context;
  return `${plan.name}, step ${expectation.step} (${expectation.id})`;
}

function report(
  context: StepContext,
  responded: Responded,
  kind: string,
  expected: string,
  actual: string,
  why: string,
): void {
  const { invoke } = responded.attempt;
  addAnomaly(context.findings, {
    kind,
    key: invoke.keySent ? invoke.key : null,
    tenant: invoke.tenant,
    events: eventsOf(responded.attempt),
    expected,
    actual,
    message: `${stepName(context)} expected ${expected}, got ${actual}. ${why}`,
    curl: curlCommand(invoke.request),
  });
}

function allowedText(rule: StatusRule): string {
  const allowed = rule.allowed === 'success' ? 'a 2xx' : statusList(rule.allowed);
  return rule.source === null ? allowed : `${allowed} (${rule.source})`;
}

function judgeStatus(context: StepContext, responded: Responded, rule: StatusRule): void {
  const allowed =
    rule.allowed === 'success'
      ? isSuccess(responded.status)
      : rule.allowed.includes(responded.status);
  if (allowed) return;
  report(
    context,
    responded,
    'step-status',
    allowedText(rule),
    String(responded.status),
    'The scenario states this status for the step; see the response and the source it cites.',
  );
}

function judgeHeader(context: StepContext, responded: Responded, rule: HeaderRule): void {
  const value = responseHeader(responded.response, rule.name);
  const shown = value === undefined ? 'no such header' : `'${shorten(value)}'`;
  let expected: string;
  switch (rule.rule) {
    case 'present':
      if (value !== undefined) return;
      expected = `a ${rule.name} header`;
      break;
    case 'absent':
      if (value === undefined) return;
      expected = `no ${rule.name} header`;
      break;
    case 'equals':
      if (value === rule.value) return;
      expected = `${rule.name}: '${rule.value}'`;
      break;
    case 'matches':
      if (value !== undefined && new RegExp(rule.pattern).test(value)) return;
      expected = `${rule.name} matching /${rule.pattern}/`;
      break;
  }
  report(
    context,
    responded,
    'step-header',
    expected,
    rule.rule === 'absent' ? `${rule.name}: ${shown}` : shown,
    'Response headers tell clients what happened (a replay, when to retry, an error format).',
  );
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function judgeBody(
  context: StepContext,
  responded: Responded,
  rule: BodyRule,
  responses: ReadonlyMap<string, Attempt>,
): void {
  const { response } = responded;
  const cut = (): void => {
    context.findings.unknowns.push({
      subject: stepName(context),
      reason: 'its body was cut for the record, so a text or JSON check on it cannot be decided',
    });
  };
  switch (rule.rule) {
    case 'same-as': {
      const earlier = responses.get(slot(context.plan.id, rule.label));
      const reference = earlier === undefined ? undefined : respondedOf(earlier);
      if (reference === undefined) {
        context.findings.unknowns.push({
          subject: stepName(context),
          reason: `step ${rule.step} (${rule.id}), whose body it must repeat, got no response`,
        });
        return;
      }
      if (reference.response.bodySha256 === response.bodySha256) return;
      report(
        context,
        responded,
        'step-body',
        `the same body as step ${rule.step} (${rule.id}) (${plural(reference.response.bodyBytes, 'byte')})`,
        `${plural(response.bodyBytes, 'byte')} that differ`,
        'A retry must get the stored response back, byte for byte.',
      );
      return;
    }
    case 'equals':
      if (response.bodySha256 === sha256(rule.text)) return;
      report(
        context,
        responded,
        'step-body',
        `the body '${shorten(rule.text)}'`,
        response.bodyTruncated
          ? `${plural(response.bodyBytes, 'byte')}`
          : `'${shorten(response.body)}'`,
        'The scenario states the exact body of this response.',
      );
      return;
    case 'contains':
      if (response.body.includes(rule.text)) return;
      if (response.bodyTruncated) return cut();
      report(
        context,
        responded,
        'step-body',
        `a body containing '${shorten(rule.text)}'`,
        `'${shorten(response.body)}'`,
        'The scenario states what this body must say.',
      );
      return;
    case 'json': {
      if (response.bodyTruncated) return cut();
      const parsed = parseJson(response.body);
      const member = parsed.ok && isJsonObject(parsed.value) ? parsed.value[rule.path] : undefined;
      if (member !== undefined && jsonEqual(member, rule.value)) return;
      report(
        context,
        responded,
        'step-body',
        `body member ${rule.path}: ${JSON.stringify(rule.value)}`,
        !parsed.ok || !isJsonObject(parsed.value)
          ? `a body that is not a JSON object ('${shorten(response.body)}')`
          : `${rule.path}: ${member === undefined ? 'missing' : shorten(JSON.stringify(member))}`,
        'The scenario states this member of the JSON body.',
      );
      return;
    }
    case 'bytes':
      if (response.bodyBytes === rule.bytes) return;
      report(
        context,
        responded,
        'step-body',
        `a body of ${plural(rule.bytes, 'byte')}`,
        plural(response.bodyBytes, 'byte'),
        'The scenario states the length of this body.',
      );
  }
}

function judgeEffects(
  context: StepContext,
  attempt: Attempt,
  effects: NonNullable<StepExpectation['effects']>,
  probe: ProbeEvent | undefined,
): void {
  const subject = stepName(context);
  if (probe === undefined) {
    context.findings.unknowns.push({ subject, reason: 'no effect reading was recorded after it' });
    return;
  }
  const { reading } = probe;
  if (!reading.ok || !('count' in reading)) {
    const why = reading.ok
      ? 'the effect probe returned no count'
      : `the effect probe failed: ${reading.error}`;
    context.findings.unknowns.push({ subject, reason: why });
    return;
  }
  if (reading.count === effects.count) return;
  const { invoke } = attempt;
  addAnomaly(context.findings, {
    kind: 'step-effects',
    key: invoke.keySent ? invoke.key : null,
    tenant: invoke.tenant,
    events: [...eventsOf(attempt), probe.index],
    expected: plural(effects.count, 'effect'),
    actual: plural(reading.count, 'effect'),
    message: `${subject} expected ${plural(effects.count, 'effect')}, got ${reading.count} (its response: ${describeOutcome(attempt)}; probe '${probe.label}' via ${probe.source}). The effect count shows how often the handler really ran.`,
    curl: curlCommand(invoke.request),
  });
}

function indexHistory(history: readonly HistoryEvent[]): {
  attempts: Map<string, Attempt>;
  probes: Map<string, ProbeEvent>;
} {
  const attempts = new Map<string, Attempt>();
  for (const attempt of attemptsOf(history)) {
    if (attempt.invoke.patternKind !== 'steps') continue;
    attempts.set(slot(attempt.invoke.pattern, attempt.invoke.label), attempt);
  }
  const probes = new Map<string, ProbeEvent>();
  for (const event of history) {
    if (event.type === 'probe' && event.probe === 'effects' && event.patternKind === 'steps')
      probes.set(slot(event.pattern, event.label), event);
  }
  return { attempts, probes };
}

export const stepExpectations = defineChecker(
  'stepExpectations',
  'no scripted step stated what it expects',
  (history, { plans }, findings) => {
    const scripted = (plans ?? []).filter((plan) => (plan.expectations?.length ?? 0) > 0);
    if (scripted.length === 0) return;
    const { attempts, probes } = indexHistory(history);
    for (const plan of scripted) {
      for (const expectation of plan.expectations ?? []) {
        findings.checked += 1;
        const context: StepContext = { plan, expectation, attempts, findings };
        const attempt = attempts.get(slot(plan.id, expectation.label));
        if (attempt === undefined) {
          findings.unknowns.push({
            subject: stepName(context),
            reason: 'it was never sent (the run stopped before it)',
          });
          continue;
        }
        const responded = respondedOf(attempt);
        const asksResponse =
          expectation.status !== null ||
          expectation.headers.length > 0 ||
          expectation.body.length > 0;
        if (responded === undefined && asksResponse) {
          findings.unknowns.push({
            subject: stepName(context),
            reason: `it got no response (${describeOutcome(attempt)}), so its status, headers and body cannot be judged`,
          });
        }
        if (responded !== undefined) {
          if (expectation.status !== null) judgeStatus(context, responded, expectation.status);
          for (const rule of expectation.headers) judgeHeader(context, responded, rule);
          for (const rule of expectation.body) judgeBody(context, responded, rule, attempts);
        }
        if (expectation.effects !== null)
          judgeEffects(
            context,
            attempt,
            expectation.effects,
            probes.get(slot(plan.id, expectation.effects.probeLabel)),
          );
      }
    }
  },
);
