import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiExtension,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
  type HeaderObject,
  type HeadersObject,
  type OpenAPIObject,
  type OperationObject,
  type ReferenceObject,
  type ResponseObject,
} from '@nestjs/swagger';
import { NO_RATE_LIMIT_EXTENSION } from './decorators/no-rate-limit.decorator.js';
import { MAX_FIELD_ERRORS } from './validation.js';

export class FieldErrorDto {
  @ApiProperty({
    example: 'email',
    description: 'The body field (dotted for nested ones) or path parameter at fault.',
  })
  field!: string;

  @ApiProperty({ example: 'must be an email address' })
  message!: string;
}

/** RFC 9457 problem details, the body of every error response. */
export class ProblemDto {
  @ApiProperty({
    format: 'uri-reference',
    example: 'about:blank',
    description: '`about:blank`: `code` carries the meaning.',
  })
  type!: string;

  @ApiProperty({ example: 'Bad Request', description: 'The reason phrase of `status`.' })
  title!: string;

  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400 })
  status!: number;

  @ApiProperty({
    example: 'The request has invalid fields.',
    description: 'For people; never a stack trace, SQL or file path.',
  })
  detail!: string;

  @ApiProperty({
    description: 'Stable machine-readable code; branch on this.',
    example: 'validation_failed',
  })
  code!: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    maxItems: MAX_FIELD_ERRORS,
    description: '`validation_failed` and `invalid_current_password`: each field at fault.',
  })
  errors?: FieldErrorDto[];
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400:
    'Invalid request: `validation_failed` (`errors` names each field or path id at fault), ' +
    '`malformed_json` (the body is not a JSON object in UTF-8, or nests too deep), or `bad_request` ' +
    '(a request that is not well-formed HTTP).',
  401:
    'No or malformed bearer token (`unauthenticated`), or an unknown, expired or revoked one ' +
    '(`invalid_token`); `WWW-Authenticate` says which.',
  403: 'Authenticated, but not allowed (`forbidden`).',
  404: 'No such resource (`not_found`).',
  405: 'The path exists, but not with this method (`method_not_allowed`); `Allow` lists its methods.',
  408: 'The request did not arrive in time (`request_timeout`); the connection closes.',
  409: 'Conflicts with existing data (`email_taken`).',
  413: 'The body is over 16 KiB (`payload_too_large`); refused before it is read when `Content-Length` says so.',
  415: 'The body is not `application/json` in UTF-8 (`unsupported_media_type`).',
  417: 'An `Expect` other than `100-continue` (`expectation_failed`).',
  429:
    'Too many requests from this client address, or attempts on this account (`rate_limited`); ' +
    'retry after `Retry-After` seconds.',
  431: 'The request headers are too large (`headers_too_large`).',
  500: 'Unexpected failure (`internal_error`): the detail is generic; the server log has the rest, under the `X-Request-Id`.',
  503:
    'A dependency (database, session store, rate-limit store) is down or did not answer within `DEPENDENCY_TIMEOUT` ' +
    '(`service_unavailable`); retry after `Retry-After` seconds.',
};

/** Response headers, shared as components; operations refer to them by these names. */
const HEADERS = {
  XRequestId: {
    description:
      'Your `X-Request-Id` when it is 1–128 of `[A-Za-z0-9._-]`, else a generated one. Quote it when reporting a problem.',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
    example: '0b6f1c52-8f2e-4d7a-9a53-3f4f1b7e2c11',
  },
  CacheControl: {
    description: 'Account and session data is personal: no cache may keep it.',
    required: true,
    schema: { type: 'string', enum: ['no-store'] },
  },
  WWWAuthenticate: {
    description:
      '`Bearer realm="latchkey"`, with `, error="invalid_token"` when the token sent is unknown, expired or revoked.',
    required: true,
    schema: { type: 'string', pattern: '^Bearer realm="latchkey"(, error="invalid_token")?$' },
    example: 'Bearer realm="latchkey", error="invalid_token"',
  },
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
    example: 1,
  },
  Allow: {
    description: 'The methods the path takes, comma-separated.',
    required: true,
    schema: { type: 'string' },
    example: 'DELETE, GET, PATCH',
  },
} satisfies Record<string, HeaderObject>;

const header = (name: keyof typeof HEADERS): ReferenceObject => ({
  $ref: `#/components/headers/${name}`,
});

const problemContent = (type: Type<ProblemDto>, example?: object) => ({
  'application/problem+json': {
    schema: { $ref: getSchemaPath(type) },
    ...(example && { example }),
  },
});

const problemResponse = (status: number): ResponseObject => ({
  description: PROBLEM_DESCRIPTIONS[status],
  content: problemContent(ProblemDto),
});

/** Documents error responses with their usual descriptions, all with the problem+json schema. */
export const ApiProblems = (...statuses: number[]) =>
  applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));

/**
 * One error response of an operation, when it means something particular there (login's 401) or
 * has a body that extends ProblemDto (with an example to match).
 */
export const ApiProblem = (
  status: number,
  description: string,
  { type = ProblemDto, example }: { type?: Type<ProblemDto>; example?: object } = {},
) =>
  applyDecorators(
    ApiExtraModels(type),
    ApiResponse({ status, description, content: problemContent(type, example) }),
  );

const NO_DEPENDENCIES = 'x-no-dependencies';

/** Marks an operation that uses no database or store, so it never answers 503 for one. */
export const ApiNoDependencies = () => ApiExtension(NO_DEPENDENCIES, true);

type Operation = OperationObject & {
  [NO_DEPENDENCIES]?: boolean;
  [NO_RATE_LIMIT_EXTENSION]?: boolean;
};

/** Every operation of the document, with its path and method. */
function* operations(document: OpenAPIObject) {
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(pathItem) as [string, Operation][]) {
      yield { path, method, operation };
    }
  }
}

const isSecured = (document: OpenAPIObject, operation: Operation) =>
  (operation.security ?? document.security ?? []).some((each) => Object.keys(each).length > 0);

/**
 * What any route can answer before or around its handler: 400 (malformed JSON, HTTP that is not
 * well-formed), 408, 413 and 415 (any request may carry a body), 417, 431, 500; 401 where a token
 * is needed; 429 unless the operation is exempt from rate limits (@NoRateLimit); 503 unless the
 * operation uses no dependency. Routes document only their own errors.
 */
export function withCommonProblems(document: OpenAPIObject): OpenAPIObject {
  for (const { operation } of operations(document)) {
    const statuses = [
      400,
      ...(isSecured(document, operation) ? [401] : []),
      408,
      413,
      415,
      417,
      ...(operation[NO_RATE_LIMIT_EXTENSION] ? [] : [429]),
      431,
      500,
      ...(operation[NO_DEPENDENCIES] ? [] : [503]),
    ];
    for (const status of statuses) operation.responses[status] ??= problemResponse(status);
    delete operation[NO_DEPENDENCIES];
    delete operation[NO_RATE_LIMIT_EXTENSION];
  }
  return document;
}

/**
 * Documents the headers the middleware and the filter send: `X-Request-Id` on every response,
 * `Cache-Control` under `noStorePaths`, `WWW-Authenticate` on a bearer 401, `Retry-After` on 429
 * and 503. Headers an operation documents itself (register's `Location`) are kept.
 */
export function withResponseHeaders(
  document: OpenAPIObject,
  { noStorePaths }: { noStorePaths: string[] },
): OpenAPIObject {
  document.components = { ...document.components, headers: HEADERS };
  for (const { path, operation } of operations(document)) {
    const noStore = noStorePaths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
    for (const [status, response] of Object.entries(operation.responses) as [
      string,
      ResponseObject,
    ][]) {
      const headers: HeadersObject = { 'X-Request-Id': header('XRequestId') };
      if (noStore) headers['Cache-Control'] = header('CacheControl');
      if (status === '401' && isSecured(document, operation)) {
        headers['WWW-Authenticate'] = header('WWWAuthenticate');
      }
      if (status === '429' || status === '503') headers['Retry-After'] = header('RetryAfter');
      response.headers = { ...headers, ...response.headers };
    }
  }
  return document;
}

/**
 * The validation pipe refuses unknown fields in every body (forbidNonWhitelisted), so each request
 * body schema says `additionalProperties: false`, and generated clients refuse them too.
 */
export function withClosedRequestBodies(document: OpenAPIObject): OpenAPIObject {
  const prefix = '#/components/schemas/';
  for (const { operation } of operations(document)) {
    const body = operation.requestBody as { content?: Record<string, { schema?: unknown }> };
    for (const { schema } of Object.values(body?.content ?? {})) {
      const ref = (schema as Partial<ReferenceObject> | undefined)?.$ref;
      const target =
        ref?.startsWith(prefix) && document.components?.schemas?.[ref.slice(prefix.length)];
      if (target && !('$ref' in target)) target.additionalProperties = false;
    }
  }
  return document;
}

/**
 * The answer to a method a path does not take. It belongs to no operation (the operation does not
 * exist), so it is a named response that the API description points to.
 */
export function withMethodNotAllowed(document: OpenAPIObject): OpenAPIObject {
  document.components = {
    ...document.components,
    responses: {
      ...document.components?.responses,
      MethodNotAllowed: {
        ...problemResponse(405),
        headers: { 'X-Request-Id': header('XRequestId'), Allow: header('Allow') },
      },
    },
  };
  return document;
}
