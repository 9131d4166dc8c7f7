import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv-draft-04';

const require = createRequire(import.meta.url);
let validate: ValidateFunction | undefined;

/**
 * Validates `doc` against Atlassian's ADF JSON schema (`@atlaskit/adf-schema`, full v1, draft-04).
 * Returns the problems; an empty array means valid.
 */
export function adfErrors(doc: unknown): string[] {
  if (!validate) {
    // A CommonJS package whose types only describe `.default` under NodeNext.
    const { default: Ajv } = require('ajv-draft-04') as {
      default: new (options: object) => { compile(schema: object): ValidateFunction };
    };
    const schema = require('@atlaskit/adf-schema/dist/json-schema/v1/full.json');
    validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  }
  if (validate(doc)) return [];
  // anyOf failures report every branch; the first few say enough.
  return (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message}`);
}
