import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  type ArgumentsHost,
  BadRequestException,
  ForbiddenException,
  HttpException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { QueryFailedError, TypeORMError } from 'typeorm';
import { ProblemDetailsFilter } from './problem-details.filter.js';
import { ProblemException, validationFailed } from './problem.exception.js';
import { UniqueViolations } from './unique-violations.js';

interface FakeLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): boolean;
}

class FakeResponse {
  statusCode?: number;
  headers: Record<string, string> = { 'X-Request-Id': 'req-123' };
  contentType?: string;
  body?: string;
  headersSent = false;

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  set(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }

  type(contentType: string): this {
    this.contentType = contentType;
    return this;
  }

  send(body: string): this {
    this.body = body;
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headers[name];
  }

  json(): Record<string, unknown> {
    if (this.body === undefined) throw new Error('nothing was sent');
    return JSON.parse(this.body) as Record<string, unknown>;
  }
}

function fakeHost(
  options: { method?: string; path?: string; stack?: FakeLayer[]; response?: FakeResponse } = {},
) {
  const request = {
    method: options.method ?? 'POST',
    path: options.path ?? '/auth/register',
    app: { router: { stack: options.stack ?? [] } },
  };
  const response = options.response ?? new FakeResponse();
  const host = {
    switchToHttp: () => ({
      getRequest: () => request,
      getResponse: () => response,
    }),
  } as unknown as ArgumentsHost;
  return { host, response };
}

const queryFailed = (driverError: Record<string, unknown>) =>
  new QueryFailedError('INSERT INTO "users" ...', [], driverError as unknown as Error);

/** A feature's constraint, registered the way a feature module does at start-up. */
const SLUG_TAKEN = {
  status: 409,
  code: 'slug_taken',
  detail: 'A team with this slug already exists.',
  errors: [{ field: 'slug', message: 'is already taken' }],
};

describe('ProblemDetailsFilter', () => {
  const uniqueViolations = new UniqueViolations();
  uniqueViolations.register('UQ_teams_slug', SLUG_TAKEN);
  const filter = new ProblemDetailsFilter(uniqueViolations);
  let logError: jest.Spied<typeof Logger.prototype.error>;

  beforeEach(() => {
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Runs the filter and checks what every problem response shares. */
  function render(exception: unknown, options: Parameters<typeof fakeHost>[0] = {}) {
    const { host, response } = fakeHost(options);
    filter.catch(exception, host);
    expect(response.contentType).toBe('application/problem+json');
    const body = response.json();
    expect(body).toEqual(
      expect.objectContaining({
        type: 'about:blank',
        title: expect.any(String),
        status: response.statusCode,
        detail: expect.any(String),
        code: expect.any(String),
      }),
    );
    return { response, body };
  }

  describe('ProblemException', () => {
    it('passes code, detail and status through', () => {
      const { response, body } = render(
        new ProblemException(403, 'forbidden', 'You may only act on your own account.'),
      );
      expect(response.statusCode).toBe(403);
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Forbidden',
        status: 403,
        detail: 'You may only act on your own account.',
        code: 'forbidden',
      });
    });

    it('includes field errors', () => {
      const errors = [
        { field: 'email', message: 'must be an email' },
        { field: 'password', message: 'must be a string of 12 to 128 characters' },
      ];
      const { response, body } = render(validationFailed(errors));
      expect(response.statusCode).toBe(400);
      expect(body).toMatchObject({
        status: 400,
        title: 'Bad Request',
        code: 'validation_failed',
        errors,
      });
    });

    it('sets its headers, such as WWW-Authenticate, and keeps them out of the body', () => {
      const { response, body } = render(
        new ProblemException(401, 'invalid_token', 'The token is unknown.', {
          headers: { 'WWW-Authenticate': 'Bearer realm="latchkey", error="invalid_token"' },
        }),
      );
      expect(response.statusCode).toBe(401);
      expect(response.headers['WWW-Authenticate']).toBe(
        'Bearer realm="latchkey", error="invalid_token"',
      );
      expect(body).toMatchObject({ code: 'invalid_token', title: 'Unauthorized' });
      expect(body).not.toHaveProperty('headers');
      expect(body).not.toHaveProperty('errors');
    });

    it('does not log client errors', () => {
      render(new ProblemException(404, 'not_found', 'There is no user with this id.'));
      expect(logError).not.toHaveBeenCalled();
    });
  });

  describe('Nest HttpExceptions', () => {
    it('maps a JSON SyntaxError to malformed_json', () => {
      const { response, body } = render(
        new BadRequestException('Unexpected token } in JSON', { cause: new SyntaxError('bad') }),
      );
      expect(response.statusCode).toBe(400);
      expect(body).toMatchObject({
        code: 'malformed_json',
        detail: expect.stringContaining('not a JSON object'),
      });
    });

    it('maps a BadRequestException without a SyntaxError cause to bad_request', () => {
      const { body } = render(new BadRequestException('Something else'));
      expect(body).toMatchObject({ status: 400, code: 'bad_request', detail: 'Something else' });
    });

    it('maps PayloadTooLargeException to payload_too_large', () => {
      const { response, body } = render(new PayloadTooLargeException());
      expect(response.statusCode).toBe(413);
      expect(body).toMatchObject({
        code: 'payload_too_large',
        title: 'Payload Too Large',
        detail: 'The request body is larger than 16 KiB.',
      });
    });

    it('maps NotFoundException on an unknown path to not_found', () => {
      const { response, body } = render(new NotFoundException(), {
        method: 'GET',
        path: '/nowhere',
      });
      expect(response.statusCode).toBe(404);
      expect(body).toMatchObject({
        code: 'not_found',
        title: 'Not Found',
        detail: 'No resource at GET /nowhere.',
      });
      expect(response.headers).not.toHaveProperty('Allow');
    });

    it('turns a 404 on a path known under other methods into 405 with Allow', () => {
      const stack: FakeLayer[] = [
        { route: { methods: { get: true } }, match: (path) => path === '/users/me' },
        { route: { methods: { patch: true, _all: true } }, match: (path) => path === '/users/me' },
        { route: { methods: { post: true } }, match: (path) => path === '/auth/login' },
        { match: () => true },
      ];
      const { response, body } = render(new NotFoundException(), {
        method: 'PUT',
        path: '/users/me',
        stack,
      });
      expect(response.statusCode).toBe(405);
      expect(response.headers.Allow).toBe('GET, PATCH');
      expect(body).toMatchObject({ code: 'method_not_allowed', title: 'Method Not Allowed' });
    });

    it('uses the status code table for other client errors', () => {
      const { body } = render(new ForbiddenException('nope'));
      expect(body).toMatchObject({ status: 403, code: 'forbidden', detail: 'nope' });
    });

    it('derives a code from the status text when the table has none', () => {
      const { body } = render(new HttpException("I'm a teapot", 418));
      expect(body).toMatchObject({ status: 418, code: 'i_m_a_teapot' });
    });

    it('keeps the status of a 5xx HttpException but not its message, and warns', () => {
      const logWarn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
      const { response, body } = render(
        new ServiceUnavailableException('pool exhausted at db-3.internal'),
      );
      expect(response.statusCode).toBe(503);
      expect(body).toMatchObject({ code: 'service_unavailable' });
      expect(body.detail).not.toContain('db-3');
      expect(logError).not.toHaveBeenCalled();
      expect(logWarn).toHaveBeenCalledTimes(1);
    });
  });

  describe('database errors', () => {
    it('maps a unique violation of a registered constraint to its problem', () => {
      const { response, body } = render(
        queryFailed({ code: '23505', constraint: 'UQ_teams_slug' }),
      );
      expect(response.statusCode).toBe(409);
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Conflict',
        status: 409,
        detail: 'A team with this slug already exists.',
        code: 'slug_taken',
        errors: [{ field: 'slug', message: 'is already taken' }],
      });
      expect(logError).not.toHaveBeenCalled();
    });

    it('maps a unique violation of an unregistered constraint to 500 internal_error', () => {
      const { response, body } = render(
        queryFailed({ code: '23505', constraint: 'UQ_something_else' }),
      );
      expect(response.statusCode).toBe(500);
      expect(body).toMatchObject({ code: 'internal_error', title: 'Internal Server Error' });
      expect(body).not.toHaveProperty('errors');
      expect(logError).toHaveBeenCalledTimes(1);
    });

    it('maps another error on a registered constraint to 500 internal_error', () => {
      const { response } = render(queryFailed({ code: '23503', constraint: 'UQ_teams_slug' }));
      expect(response.statusCode).toBe(500);
    });

    it('refuses a second registration of one constraint', () => {
      expect(() => uniqueViolations.register('UQ_teams_slug', SLUG_TAKEN)).toThrow(
        'UQ_teams_slug is already registered',
      );
    });
  });

  describe('dependency failures', () => {
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
    const refused = () => withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');

    it.each<[string, unknown]>([
      ['a statement timeout (57014)', queryFailed({ code: '57014' })],
      ['a server shutting down (57P01)', queryFailed({ code: '57P01' })],
      ['a lost connection (08006)', queryFailed({ code: '08006' })],
      ['too many connections (53300)', queryFailed({ code: '53300' })],
      ['a stalled query', queryFailed(new Error('Query read timeout') as never)],
      [
        'a connection that died under a query',
        new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
      ],
      ['a pool with no free connection', new Error('timeout exceeded when trying to connect')],
      ['a connect timeout', new Error('Connection terminated due to connection timeout')],
      ['a refused connection', refused()],
      ['every address of localhost refused', new AggregateError([refused(), refused()])],
      ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
      ['no connection yet (TypeORM)', new TypeORMError('Driver not Connected')],
      ['a Redis command timeout', new Error('Command timed out')],
      ['a closed Redis connection', new Error('Connection is closed.')],
      [
        'a Redis connection that delivered nothing',
        new Error("Socket timeout. Expecting data, but didn't receive any in 3000ms."),
      ],
      [
        'Redis disconnected (no offline queue)',
        new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      ],
      ['Redis retries used up', new MaxRetriesPerRequestError(2)],
      ['a Redis Cluster without nodes', new Error('Failed to refresh slots cache.')],
      [
        'a Redis Cluster not ready',
        new Error("Cluster isn't ready and enableOfflineQueue options is false"),
      ],
      [
        'a Redis server loading its data',
        new ReplyError('LOADING Redis is loading the dataset in memory'),
      ],
      ['a Redis Cluster down', new ReplyError('CLUSTERDOWN The cluster is down')],
    ])('answers %s with 503 service_unavailable and Retry-After', (_, error) => {
      const logWarn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
      const { response, body } = render(error, { method: 'GET', path: '/users/me' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: 'A service this request needs is not answering. Try again shortly.',
        code: 'service_unavailable',
      });
      expect(logError).not.toHaveBeenCalled();
      // The driver's words go to the log, never to the client.
      expect(logWarn).toHaveBeenCalledWith(expect.stringContaining((error as Error).message));
    });

    it.each<[string, unknown]>([
      ['an unregistered unique violation', queryFailed({ code: '23505', constraint: 'UQ_x' })],
      ['a missing table (42P01)', queryFailed({ code: '42P01' })],
      [
        'a syntax error (42601) whose message sounds like a timeout',
        queryFailed({ code: '42601', message: 'Query read timeout' }),
      ],
      ['a failing Redis script', new ReplyError('ERR Error running script')],
      [
        'a client that hung up on its request body',
        Object.assign(new Error('request aborted'), { code: 'ECONNABORTED', status: 400 }),
      ],
      ['a bug', new Error('Cannot read properties of undefined')],
    ])('keeps %s a 500', (_, error) => {
      const { response } = render(error);
      expect(response.statusCode).toBe(500);
      expect(response.headers).not.toHaveProperty('Retry-After');
    });
  });

  describe('unexpected errors', () => {
    it('answers 500 without leaking the message or stack', () => {
      const error = new Error('secret SQL here at /path/file.ts');
      const { response, body } = render(error);

      expect(response.statusCode).toBe(500);
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: 'The server could not complete the request. It has been logged.',
        code: 'internal_error',
      });
      expect(response.body).not.toContain('secret');
      expect(response.body).not.toContain('/path/file.ts');
      expect(response.body).not.toContain('at ');
    });

    it('logs the method, path, request id and stack', () => {
      const error = new Error('boom');
      render(error, { method: 'DELETE', path: '/users/42' });
      expect(logError).toHaveBeenCalledTimes(1);
      const [message, stack] = logError.mock.calls[0] as [string, string];
      expect(message).toContain('DELETE /users/42');
      expect(message).toContain('req-123');
      expect(stack).toBe(error.stack);
    });

    it('handles a thrown non-Error value', () => {
      const { response, body } = render('just a string');
      expect(response.statusCode).toBe(500);
      expect(body).toMatchObject({ code: 'internal_error' });
      expect(logError).toHaveBeenCalledWith(expect.any(String), 'just a string');
    });
  });

  it('sends nothing when headers were already sent, but still logs', () => {
    const response = new FakeResponse();
    response.headersSent = true;
    const { host } = fakeHost({ response });
    filter.catch(new Error('late'), host);
    expect(response.statusCode).toBeUndefined();
    expect(response.body).toBeUndefined();
    expect(logError).toHaveBeenCalledTimes(1);
  });
});
