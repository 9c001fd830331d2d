import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProblemException } from './problem.exception.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The largest request body, in bytes (16 KiB). */
export const BODY_LIMIT = 16 * 1024;

/** Deeper than any body of this API, shallow enough for every library that walks a body. */
export const MAX_BODY_DEPTH = 32;

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

const decodable = (segment: string) => {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
};

/**
 * Express decodes path parameters while it routes, and answers `/users/%FF` with a 400 before any
 * guard runs. Escaping the `%` of such a segment makes it a literal parameter instead, which the
 * route then refuses in its turn: after authentication, as a malformed id.
 */
export function escapeUndecodablePath(request: Request, _response: Response, next: NextFunction) {
  const queryAt = request.url.indexOf('?');
  const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  // Nearly every path has no escape at all: nothing to decode, nothing to split.
  if (!path.includes('%')) {
    next();
    return;
  }
  const escaped = path
    .split('/')
    .map((segment) => (decodable(segment) ? segment : segment.replaceAll('%', '%25')))
    .join('/');
  if (escaped !== path) request.url = escaped + request.url.slice(path.length);
  next();
}

/** The connection closes after a refused request, so nothing reads a body that was not wanted. */
const refuse = (status: number, code: string, detail: string) =>
  new ProblemException(status, code, detail, { headers: { Connection: 'close' } });

/** Node's own test for an expectation it meets itself. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * What Node would refuse with a bare status line, handed to the app (answerNodeHttpErrorsAsProblems)
 * to be refused as problem details: an HTTP/1.1 request without Host, an Expect other than
 * 100-continue.
 */
export function refuseWhatNodeWould(request: Request, _response: Response, next: NextFunction) {
  if (request.httpVersion === '1.1' && request.headers.host === undefined) {
    next(refuse(400, 'bad_request', 'An HTTP/1.1 request needs a Host header.'));
  } else if (request.headers.expect !== undefined && !CONTINUE.test(request.headers.expect)) {
    next(refuse(417, 'expectation_failed', 'The only expectation met is 100-continue.'));
  } else {
    next();
  }
}

const hasBody = (request: Request) =>
  request.get('transfer-encoding') !== undefined || Number(request.get('content-length') ?? 0) > 0;

/**
 * The API speaks JSON only: a body of any other type, or declared larger than the limit, is
 * refused before anything reads it.
 */
export function requireJsonBody(request: Request, _response: Response, next: NextFunction): void {
  if (Number(request.get('content-length') ?? 0) > BODY_LIMIT) {
    next(refuse(413, 'payload_too_large', 'The request body is larger than 16 KiB.'));
    return;
  }
  if (hasBody(request) && !request.is('application/json')) {
    next(refuse(415, 'unsupported_media_type', 'Send the body as application/json.'));
    return;
  }
  next();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * body-parser's `verify` hook: it gets the charset the parser would decode with, and the raw
 * bytes. Bodies are UTF-8 (anything else would be decoded into other text than was meant), and
 * bytes that are not UTF-8 are malformed rather than silently replaced. body-parser keeps the
 * `status` of what this throws.
 */
export function requireUtf8(
  _request: IncomingMessage,
  _response: ServerResponse,
  body: Buffer,
  charset: string,
): void {
  if (charset !== 'utf-8') {
    throw Object.assign(new Error('Send the body as UTF-8 (charset=utf-8, or no charset).'), {
      status: 415,
    });
  }
  try {
    utf8.decode(body);
  } catch {
    throw Object.assign(new SyntaxError('The request body is not valid UTF-8.'), { status: 400 });
  }
}

function nestedDeeperThan(value: unknown, limit: number): boolean {
  // A loop with its own stack: a recursive walk is what overflows on a deep body.
  const stack: [unknown, number][] = [[value, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [current, depth] = item;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * After JSON parsing, before validation: class-transformer copies a body recursively and would
 * overflow the stack on one nested thousands deep, which fits in 16 KiB.
 */
export function limitBodyDepth(request: Request, _response: Response, next: NextFunction): void {
  if (nestedDeeperThan(request.body, MAX_BODY_DEPTH)) {
    next(
      new ProblemException(
        400,
        'malformed_json',
        `The request body nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`,
      ),
    );
    return;
  }
  next();
}
