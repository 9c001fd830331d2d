import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse, type OpenAPIObject } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'email' })
  field!: string;

  @ApiProperty({ example: 'must be an email address' })
  message!: string;
}

/** RFC 9457 problem details, the body of every error response. */
export class ProblemDto {
  @ApiProperty({ example: 'about:blank' })
  type!: string;

  @ApiProperty({ example: 'Bad Request' })
  title!: string;

  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({ example: 'The request has invalid fields.' })
  detail!: string;

  @ApiProperty({
    description: 'Stable machine-readable code; branch on this.',
    example: 'validation_failed',
  })
  code!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({
    description: 'Readiness only: each check and whether it is `up` or `down`.',
    example: { database: 'down', sessions: 'up' },
  })
  checks?: Record<string, string>;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (`validation_failed`, `malformed_json`, or a more specific code).',
  401: 'Missing or malformed bearer token (`unauthenticated`), or an unknown, expired or revoked one (`invalid_token`).',
  403: 'Authenticated but not allowed (`forbidden`).',
  404: 'No such resource (`not_found`).',
  409: 'Conflicts with existing data (`email_taken`).',
  413: 'Body over 16 KiB (`payload_too_large`).',
  415: 'Body is not `application/json` (`unsupported_media_type`).',
  500: 'Unexpected failure (`internal_error`); the detail is generic, the server log has the rest.',
  503: 'A dependency is down (`service_unavailable`).',
};

const problemResponse = (status: number) => ({
  description: DESCRIPTIONS[status],
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
});

/** Documents error responses, all with the problem+json schema. */
export const ApiProblems = (...statuses: number[]) =>
  applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));

/** What a request with a body can get before any handler runs: 400 malformed_json, 413, 415. */
const BODY_PROBLEMS = [400, 413, 415];
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

/**
 * Adds the errors every route can answer, so no operation's list is incomplete: body errors on
 * methods that carry one, and 500 everywhere.
 */
export function withCommonProblems(document: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(pathItem) as [string, Operation][]) {
      const statuses = [...(BODY_METHODS.has(method) ? BODY_PROBLEMS : []), 500];
      for (const status of statuses) operation.responses[status] ??= problemResponse(status);
    }
  }
  return document;
}
