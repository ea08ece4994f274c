/**
 * The committed JSON Schemas (docs/schema/*.schema.json) loaded into one validator, for tests that check real
 * output against the contract: `assertMatchesSchema('cleanup', JSON.parse(stdout))`. A command's schema may
 * reference the shared result schema by its $id (urn:kubectl-netdiag:schema:result).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

const SCHEMA_DIR = new URL('../../docs/schema/', import.meta.url);

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
for (const file of readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.schema.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as object);
}

/** Why `value` does not match docs/schema/<name>.schema.json (empty when it does). */
export function schemaErrors(name: string, value: unknown): string[] {
  const validate = ajv.getSchema(`urn:kubectl-netdiag:schema:${name}`);
  if (!validate) throw new Error(`no schema docs/schema/${name}.schema.json`);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
}

export function assertMatchesSchema(name: string, value: unknown): void {
  assert.deepEqual(schemaErrors(name, value), [], `output does not match docs/schema/${name}.schema.json`);
}
