import { HttpException } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members of the problem body (RFC 9457 extensions). */
  extensions?: Record<string, unknown>;
}

/**
 * An error with a stable machine `code`, shaped into RFC 9457 problem details by
 * ProblemDetailsFilter. Throw it (or a Nest HttpException) from anywhere in a request.
 */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    readonly detail: string,
    readonly extras: ProblemOptions = {},
  ) {
    super(detail, status);
  }
}

export const validationFailed = (errors: FieldError[]) =>
  new ProblemException(400, 'validation_failed', 'The request has invalid fields.', { errors });
