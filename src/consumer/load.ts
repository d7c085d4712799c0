import { extname } from 'node:path';
import { IdemproofError } from '../errors.js';
import { TemplateError } from '../plan/template.js';
import {
  formatIssues,
  missingFieldMessage,
  parseYamlText,
  plainData,
  type LoadedScenario,
  loadScenarioFile,
} from '../scenario/load.js';
import {
  YAML_EXTENSIONS,
  displayPath,
  findScenarioFiles,
  readScenarioText,
  type SkippedFile,
} from '../scenario/files.js';
import { planConsumerScenario } from './plan.js';
import { consumerScenarioSchema, type ConsumerScenario } from './schema.js';

/**
 * Consumer scenarios: YAML files with a top-level `consumer:` (the broker and destination),
 * loaded with the same file:line:col errors as API scenarios, and told apart from them when a
 * run names files and folders of both.
 *
 * Must not: run anything while loading (a dry plan checks the templates, with no I/O).
 */

export interface LoadedConsumerScenario {
  readonly scenario: ConsumerScenario;
  /** Path relative to the working directory. */
  readonly file: string;
}

/** Is this parsed document a consumer scenario? */
export function isConsumerDocument(value: unknown): boolean {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && 'consumer' in value
  );
}

export async function loadConsumerScenarioFile(path: string): Promise<LoadedConsumerScenario> {
  const file = displayPath(path);
  const yaml = parseYamlText(await readScenarioText(path), file);
  return validateConsumer(plainData(yaml, file), file, yaml);
}

export function validateConsumer(
  value: unknown,
  file: string,
  yaml?: Parameters<typeof formatIssues>[2],
): LoadedConsumerScenario {
  const parsed = consumerScenarioSchema.safeParse(value, { error: missingFieldMessage });
  if (!parsed.success)
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      formatIssues(file, parsed.error.issues, yaml, 'consumer scenario'),
    );
  const scenario = parsed.data;
  const problems: { path: (string | number)[]; message: string }[] = [];
  scenario.patterns.forEach((pattern, index) => {
    if (pattern.kind === 'redelivery' && !(pattern.dependency in scenario.dependencies)) {
      problems.push({
        path: ['patterns', index, 'dependency'],
        message: `unknown dependency '${pattern.dependency}': declare the lane between the consumer and the broker, e.g. dependencies: {broker: {listen: 127.0.0.1:15672, upstream: 127.0.0.1:5672}}, and point the consumer at listen`,
      });
    }
    if (pattern.kind === 'shuffled-versions' && scenario.state === undefined) {
      problems.push({
        path: ['patterns', index],
        message:
          'shuffled-versions reads the final state: add a state probe (state: {sql: {url, query, params: [resource]}})',
      });
    }
    if (
      (pattern.kind === 'dlq-replay' ||
        (pattern.kind === 'poison-message' && pattern.deadLetter === 'required')) &&
      !hasDeadLetter(scenario)
    ) {
      problems.push({
        path: ['patterns', index],
        message: `${pattern.kind} needs the dead-letter destination: consumer.${scenario.consumer.broker === 'kafka' ? 'deadLetterTopic' : 'deadLetterQueue'}`,
      });
    }
  });
  const counter = 'delta' in scenario.effects ? scenario.effects.delta : scenario.effects;
  if ('http' in counter && !/^https?:\/\//i.test(counter.http.url)) {
    problems.push({
      path: [
        'delta' in scenario.effects ? ['effects', 'delta'] : ['effects'],
        'http',
        'url',
      ].flat(),
      message:
        'a consumer has no base URL: write the effect probe URL in full, e.g. http://127.0.0.1:8080/effects?message_id={{key}}',
    });
  }
  if (problems.length === 0) {
    try {
      planConsumerScenario(scenario, { seed: 1, run: 'check' });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      problems.push({ path: ['message'], message: error.message });
    }
  }
  if (problems.length > 0)
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      formatIssues(file, problems, yaml, 'consumer scenario'),
    );
  return { scenario, file };
}

function hasDeadLetter(scenario: ConsumerScenario): boolean {
  const { consumer } = scenario;
  return consumer.broker === 'kafka'
    ? consumer.deadLetterTopic !== undefined
    : consumer.deadLetterQueue !== undefined;
}

/** API and consumer scenarios of the files and folders given, in order. */
export async function loadSuiteFiles(
  paths: readonly string[],
  onSkipped?: (skipped: SkippedFile) => void,
): Promise<{ readonly http: LoadedScenario[]; readonly consumers: LoadedConsumerScenario[] }> {
  const { files, skipped } = await findScenarioFiles(paths);
  for (const entry of skipped) onSkipped?.(entry);
  const http: LoadedScenario[] = [];
  const consumers: LoadedConsumerScenario[] = [];
  for (const path of files) {
    if (YAML_EXTENSIONS.has(extname(path))) {
      const file = displayPath(path);
      const yaml = parseYamlText(await readScenarioText(path), file);
      const value = plainData(yaml, file);
      if (isConsumerDocument(value)) {
        consumers.push(validateConsumer(value, file, yaml));
        continue;
      }
    }
    http.push(...(await loadScenarioFile(path)));
  }
  const names = new Map<string, string>();
  for (const { scenario, file } of [...http, ...consumers]) {
    const other = names.get(scenario.name);
    if (other !== undefined)
      throw new IdemproofError(
        'IDEMPROOF_ERR_SCENARIO',
        `${file}: scenario name '${scenario.name}' is also used by ${other}; names must be unique in a run`,
      );
    names.set(scenario.name, file);
  }
  return { http, consumers };
}
