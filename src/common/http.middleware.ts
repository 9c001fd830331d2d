import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ProblemException } from './problem.exception.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Echoes a well-formed incoming X-Request-Id, otherwise makes one; every response carries it. */
export function requestId(request: Request, response: Response, next: NextFunction): void {
  const incoming = request.get('x-request-id');
  const id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  (request as Request & { id: string }).id = id;
  response.setHeader('X-Request-Id', id);
  next();
}

/** Auth and account responses are personal: no cache may keep them. */
export function noStore(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
}

const hasBody = (request: Request) =>
  request.get('transfer-encoding') !== undefined || Number(request.get('content-length') ?? 0) > 0;

/** The API speaks JSON only: a body of any other type is refused before anything reads it. */
export function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  if (hasBody(request) && !request.is('application/json')) {
    next(new ProblemException(415, 'unsupported_media_type', 'Send the body as application/json.'));
    return;
  }
  next();
}
