import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';

/** The committed document; a test keeps it equal to what the app serves. */
export const document = JSON.parse(readFileSync('openapi.json', 'utf8')) as {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
  >;
};

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
ajv.addSchema(document, 'openapi.json');

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Document paths as patterns, literal ones first so /users/me wins over /users/{id}. */
const templates = Object.keys(document.paths)
  .sort((a, b) => Number(a.includes('{')) - Number(b.includes('{')))
  .map((path) => ({ path, pattern: new RegExp(`^${path.replace(/\{[^/]+\}/g, '[^/]+')}$`) }));

export interface ObservedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Checks a real response against the document: its status must be documented for the operation,
 * and a JSON body must have a documented schema for its media type, and match it. Requests the document does not describe
 * (unknown routes, Swagger UI) are not checked here.
 */
export function checkAgainstOpenApi(method: string, url: string, response: ObservedResponse): void {
  const path = new URL(url, 'http://x').pathname;
  const template = templates.find(({ pattern }) => pattern.test(path))?.path;
  const operation = template ? document.paths[template][method.toLowerCase()] : undefined;
  if (!template || !operation) return;
  const where = `${method.toUpperCase()} ${template} → ${response.status}`;
  const documented = operation.responses[String(response.status)];
  if (!documented) throw new Error(`${where} is not documented in openapi.json`);
  const mediaType = (response.headers['content-type'] ?? '').split(';')[0];
  if (!mediaType.endsWith('json')) return;
  const content = documented.content?.[mediaType] as { schema?: unknown } | undefined;
  if (!content?.schema)
    throw new Error(`${where}: its ${mediaType} body is not described in openapi.json`);
  const ref = `openapi.json#/${pointer('paths', template, method.toLowerCase(), 'responses', String(response.status), 'content', mediaType, 'schema')}`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  if (!validate(response.body)) {
    throw new Error(
      `${where}: body does not match openapi.json: ${ajv.errorsText(validate.errors)}`,
    );
  }
}
