import { z } from 'zod';
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
