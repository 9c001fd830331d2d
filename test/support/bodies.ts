import { randomBytes, randomUUID } from 'node:crypto';
import type { OperationDoc } from './openapi.js';
import { document } from './openapi.js';
import { uniqueEmail } from './factories.js';

/** What a field needs to be valid, by its name; the matrices know no field that is not here. */
const VALID_VALUES: Record<string, (context: BodyContext) => unknown> = {
  email: () => uniqueEmail('matrix'),
  password: () => `matrix passphrase ${randomBytes(4).toString('hex')}`,
  currentPassword: (context) => context.password,
  name: () => 'Ada',
  token: () => `lkv_${randomBytes(32).toString('base64url')}`,
  role: () => 'user',
  disabled: () => false,
};

export interface BodyContext {
  /** The password of the account whose token is used, for `currentPassword`. */
  password: string;
}

/** The documented schema of an operation's JSON body, resolved. */
export function requestSchema(operation: OperationDoc): {
  properties: Record<string, { type?: string | string[]; nullable?: boolean }>;
  required: string[];
} {
  const schema = operation.requestBody?.content['application/json']?.schema as { $ref?: string };
  const resolved = (
    schema.$ref ? document.components.schemas[schema.$ref.split('/').pop() as string] : schema
  ) as { properties?: Record<string, { type?: string }>; required?: string[] };
  return { properties: resolved.properties ?? {}, required: resolved.required ?? [] };
}

/**
 * A valid body for the operation: every required field, plus `name` where it is the only way to
 * say something (a PATCH). Throws for a field it does not know, so a new body is exercised, not
 * skipped: add the field to VALID_VALUES.
 */
export function validBody(operation: OperationDoc, context: BodyContext): Record<string, unknown> {
  const { properties, required } = requestSchema(operation);
  const optional = 'name' in properties ? ['name'] : Object.keys(properties).slice(0, 1);
  const fields = required.length > 0 ? required : optional;
  return Object.fromEntries(
    fields.map((field) => {
      const value = VALID_VALUES[field];
      if (!value) {
        throw new Error(
          `${operation.operationId}: no valid value known for body field "${field}"; add one to test/support/bodies.ts`,
        );
      }
      return [field, value(context)];
    }),
  );
}

/** Every field the schema declares, for the type-confusion matrix. */
export const declaredFields = (operation: OperationDoc) =>
  Object.keys(requestSchema(operation).properties);

/** A JSON text with `key: value` added as the body's own member (`__proto__` included). */
export const withMember = (body: Record<string, unknown>, key: string, value: unknown) => {
  const text = JSON.stringify(body);
  return `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(key)}:${JSON.stringify(value)}}`;
};

export const randomId = () => randomUUID();
