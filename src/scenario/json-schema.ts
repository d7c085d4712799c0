import { z } from 'zod';
import { consumerScenarioSchema } from '../consumer/schema.js';
import { profileFileSchema } from './profile-schema.js';
import { scenarioSchema } from './schema.js';

/**
 * The JSON Schema of scenario files, generated from the same definitions the loader validates
 * with, so editors (yaml-language-server, VS Code) autocomplete and check YAML as idemproof does.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    title: 'idemproof scenario',
  };
}

/** The JSON Schema of profile files (`--profile ./acme.yaml`), from the model they load with. */
export function profileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(profileFileSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return { ...schema, title: 'idemproof profile' };
}

/** The JSON Schema of consumer scenario files (a top-level `consumer:`). */
export function consumerJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(consumerScenarioSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return { ...schema, title: 'idemproof consumer scenario' };
}
