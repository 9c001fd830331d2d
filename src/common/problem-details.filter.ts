import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { QueryFailedError } from 'typeorm';
import { allowedMethods } from './allowed-methods.js';
import { isDependencyFailure, RETRY_AFTER_SECONDS } from './dependency-failure.js';
import { type FieldError, ProblemException } from './problem.exception.js';
import type { UniqueViolations } from './unique-violations.js';

export interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

const CODES_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

const INTERNAL_ERROR: Problem = {
  status: 500,
  code: 'internal_error',
  detail: 'The server could not complete the request. It has been logged.',
};

const DEPENDENCY_UNAVAILABLE: Problem = {
  status: 503,
  code: 'service_unavailable',
  detail: 'A service this request needs is not answering. Try again shortly.',
  headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
};

/** The one place that turns any error into `application/problem+json`. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  /** @param uniqueViolations the 409s (or other client errors) that features registered. */
  constructor(private readonly uniqueViolations: UniqueViolations) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    const problem = this.toProblem(exception, request);
    const requestId = String(response.getHeader('X-Request-Id'));
    if (problem.status === HttpStatus.INTERNAL_SERVER_ERROR) {
      this.logger.error(
        `${request.method} ${request.path} failed (request ${requestId})`,
        exception instanceof Error ? exception.stack : String(exception),
      );
    } else if (problem.status > HttpStatus.INTERNAL_SERVER_ERROR) {
      // The driver's own words are for the log only (they name hosts and libraries).
      const cause = problem === DEPENDENCY_UNAVAILABLE ? ` (${(exception as Error).message})` : '';
      this.logger.warn(
        `${request.method} ${request.path}: ${problem.detail}${cause} (request ${requestId})`,
      );
    }
    if (response.headersSent) return;
    const { status, code, detail, errors, headers, extensions } = problem;
    const body = {
      ...extensions,
      type: 'about:blank',
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      code,
      ...(errors ? { errors } : {}),
    };
    response.status(status).set(headers ?? {});
    response.type('application/problem+json').send(JSON.stringify(body));
  }

  toProblem(exception: unknown, request: Request): Problem {
    if (exception instanceof ProblemException) {
      return {
        status: exception.getStatus(),
        code: exception.code,
        detail: exception.detail,
        ...exception.extras,
      };
    }
    if (isDependencyFailure(exception)) return DEPENDENCY_UNAVAILABLE;
    if (exception instanceof QueryFailedError) {
      const { code, constraint } = exception.driverError as { code?: string; constraint?: string };
      const known =
        code === '23505' && constraint ? this.uniqueViolations.problemFor(constraint) : undefined;
      return known ?? INTERNAL_ERROR;
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception, request);
    }
    return INTERNAL_ERROR;
  }

  private fromHttpException(exception: HttpException, request: Request): Problem {
    const status = exception.getStatus();
    if (status >= 500)
      return { ...INTERNAL_ERROR, status, code: CODES_BY_STATUS[status] ?? 'internal_error' };
    if (status === HttpStatus.NOT_FOUND) {
      // Nest answers every unmatched request with 404; a path that exists under another method is a 405.
      const allow = allowedMethods(request);
      if (allow.length > 0) {
        return {
          status: HttpStatus.METHOD_NOT_ALLOWED,
          code: 'method_not_allowed',
          detail: `${request.method} is not allowed here; use ${allow.join(', ')}.`,
          headers: { Allow: allow.join(', ') },
        };
      }
      return {
        status,
        code: 'not_found',
        detail: `No resource at ${request.method} ${request.path}.`,
      };
    }
    if (status === HttpStatus.BAD_REQUEST && exception.cause instanceof SyntaxError) {
      return {
        status,
        code: 'malformed_json',
        detail:
          'The request body is not a JSON object (malformed JSON, or a bare value such as null).',
      };
    }
    if (status === HttpStatus.PAYLOAD_TOO_LARGE) {
      return {
        status,
        code: 'payload_too_large',
        detail: 'The request body is larger than 16 KiB.',
      };
    }
    return {
      status,
      code:
        CODES_BY_STATUS[status] ??
        (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/\W+/g, '_'),
      detail: exception.message,
    };
  }
}
