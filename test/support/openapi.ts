import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';

interface HeaderObject {
  required?: boolean;
  schema?: { type?: string };
}
type Reference = { $ref: string };
type HeaderDoc = HeaderObject | Reference;

interface ResponseDoc {
  description: string;
  headers?: Record<string, HeaderDoc>;
  content?: Record<string, { schema?: unknown; examples?: Record<string, { value: unknown }> }>;
}

export interface OperationDoc {
  operationId?: string;
  security?: Record<string, string[]>[];
  requestBody?: {
    content: Record<string, { schema?: unknown; examples?: Record<string, { value: unknown }> }>;
  };
  responses: Record<string, ResponseDoc>;
}

/** The committed document; a test keeps it equal to what the app serves. */
export const document = JSON.parse(readFileSync('openapi.json', 'utf8')) as {
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, OperationDoc>>;
  components: {
    schemas: Record<string, { required?: string[]; additionalProperties?: unknown }>;
    headers: Record<string, HeaderObject>;
    responses?: Record<string, ResponseDoc>;
  };
};

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
ajv.addSchema(document, 'openapi.json');

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const validator = (ref: string) => ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });

/** Document paths as patterns, literal ones first so /users/me wins over /users/{id}. */
const templates = Object.keys(document.paths)
  .sort((a, b) => Number(a.includes('{')) - Number(b.includes('{')))
  .map((path) => ({ path, pattern: new RegExp(`^${path.replace(/\{[^/]+\}/g, '[^/]+')}$`) }));

export interface ObservedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** A header as documented, with the JSON pointer of its schema. */
function resolveHeader(header: HeaderDoc, at: string): { header: HeaderObject; schemaRef: string } {
  if (!('$ref' in header)) return { header, schemaRef: `${at}/schema` };
  const name = header.$ref.replace('#/components/headers/', '');
  return {
    header: document.components.headers[name],
    schemaRef: `openapi.json#/${pointer('components', 'headers', name, 'schema')}`,
  };
}

/** Every documented header of the response must be valid; a required one must be there. */
function checkHeaders(
  where: string,
  documented: ResponseDoc,
  at: string,
  actual: ObservedResponse,
) {
  for (const [name, doc] of Object.entries(documented.headers ?? {})) {
    const { header, schemaRef } = resolveHeader(doc, `${at}/${pointer('headers', name)}`);
    const value = actual.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required)
        throw new Error(`${where}: no ${name} header, which openapi.json requires`);
      continue;
    }
    // Header values are text; a schema of integers means digits.
    const typed = header.schema?.type === 'integer' && /^\d+$/.test(value) ? Number(value) : value;
    const validate = validator(schemaRef);
    if (!validate(typed)) {
      throw new Error(
        `${where}: ${name}: ${value} does not match openapi.json: ${ajv.errorsText(validate.errors)}`,
      );
    }
  }
}

/**
 * Checks a real response against the document: its status must be documented for the operation,
 * its documented headers present (when required) and valid, and a JSON body must have a documented
 * schema for its media type, and match it. Requests the document does not describe (unknown
 * routes, Swagger UI) are not checked here.
 */
export function checkAgainstOpenApi(method: string, url: string, response: ObservedResponse): void {
  const path = new URL(url, 'http://x').pathname;
  const template = templates.find(({ pattern }) => pattern.test(path))?.path;
  const operation = template ? document.paths[template][method.toLowerCase()] : undefined;
  if (!template || !operation) return;
  const where = `${method.toUpperCase()} ${template} → ${response.status}`;
  const documented = operation.responses[String(response.status)];
  if (!documented) throw new Error(`${where} is not documented in openapi.json`);
  const at = `openapi.json#/${pointer('paths', template, method.toLowerCase(), 'responses', String(response.status))}`;
  checkHeaders(where, documented, at, response);
  const mediaType = (response.headers['content-type'] ?? '').split(';')[0];
  if (!mediaType.endsWith('json')) return;
  const content = documented.content?.[mediaType] as { schema?: unknown } | undefined;
  if (!content?.schema)
    throw new Error(`${where}: its ${mediaType} body is not described in openapi.json`);
  const validate = validator(`${at}/${pointer('content', mediaType, 'schema')}`);
  if (!validate(response.body)) {
    throw new Error(
      `${where}: body does not match openapi.json: ${ajv.errorsText(validate.errors)}`,
    );
  }
}
