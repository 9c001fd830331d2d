import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { createTestApp } from './support/app.js';
import { account, type Account, api, PASSWORD } from './support/factories.js';
import { document } from './support/openapi.js';

/**
 * Property-based fuzzing of the whole HTTP surface: random bodies, paths and headers on every
 * documented route (and some undocumented ones). Whatever arrives, the answer is never a 5xx, every
 * 4xx is problem details, and the server keeps answering. fast-check prints the seed and the
 * shrunk request of a failure, so it can be replayed with `{ seed, path }`.
 */

const RUNS = { bodies: 1500, paths: 700, headers: 700, raw: 300 };
/** Each property takes seconds; this bound is for a loaded machine, not a measure of speed. */
const FUZZ_TIMEOUT_MS = 120_000;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** How fast-check prints a counterexample: a body of thousands of brackets, shortened. */
const withSummary = (request: FuzzRequest): FuzzRequest =>
  Object.assign(request, {
    [fc.toStringMethod]: () => {
      const body = request.body?.toString('utf8');
      const shown = body && body.length > 300 ? `${body.slice(0, 300)}… (${body.length})` : body;
      return JSON.stringify({ ...request, body: shown });
    },
  });

const ROUTES = Object.entries(document.paths).flatMap(([path, operations]) =>
  Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path })),
);
const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'];

/** Characters Node's HTTP client lets into a header value (it refuses the rest itself). */
const headerSafe = (value: string) => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');

const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    '\u200b',
    '\u202e',
    '\u2066',
    '\ufeff',
    'e\u0301',
    'a@example.com',
    'A@EXAMPLE.COM ',
    `a\u0000b@example.com`,
    `a\ud800@example.com`,
    'x'.repeat(255),
    '🔑'.repeat(129),
    PASSWORD,
    '__proto__',
  ),
);

const FIELDS = ['email', 'password', 'name', 'currentPassword', 'role', 'id', 'token'];
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  anyString,
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1e308, [], {}),
);

const fieldsBody = fc
  .dictionary(
    fc.oneof(fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'prototype'), anyString),
    anyValue,
    { maxKeys: 6 },
  )
  .map((fields) =>
    // Built as text: an object literal would turn `__proto__` into a prototype, not a key.
    Buffer.from(
      `{${Object.entries(fields)
        .map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`)
        .join(',')}}`,
    ),
  );

const nestedBody = fc
  .tuple(fc.integer({ min: 1, max: 6000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => {
    const close = open === '[' ? ']' : '}';
    return Buffer.from(`${open.repeat(depth)}${open === '[' ? '' : '1'}${close.repeat(depth)}`);
  });

const anyBody: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 4, arbitrary: fieldsBody },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '')) },
  { weight: 1, arbitrary: nestedBody },
  { weight: 1, arbitrary: anyString.map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 16 * 1024 - 8, max: 17 * 1024 })
      .map((size) => Buffer.from(`{"name":"${'n'.repeat(size)}"}`)),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('utf-8', 'UTF-8', 'utf-7', 'utf-16', 'latin1', '"utf-8"', '', 'utf-99')
      .map((charset) => `application/json; charset=${charset}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/merge-patch+json',
      'application/json;;',
      'application/json; charset',
      'Application/JSON',
      'multipart/form-data; boundary=x',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map(headerSafe) },
);

/** A path segment where an id goes: real ids, their upper case, and everything else. */
const idSegment = (ids: string[]) =>
  fc.oneof(
    fc.constantFrom(...ids),
    fc.constantFrom(...ids).map((id) => id.toUpperCase()),
    fc.uuid(),
    fc.constantFrom('%FF', '%E0%A4%A', '%', '%%', '%00', '%2F', '..', 'me', '%C0%AF', '%ED%A0%80'),
    fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
    fc
      .array(fc.integer({ min: 0, max: 255 }), { maxLength: 6 })
      .map((bytes) =>
        bytes.map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join(''),
      ),
  );

const pathFor = (template: string, ids: string[]) =>
  template.includes('{')
    ? idSegment(ids).map((segment) => template.replace(/\{[^}]+\}/, segment))
    : fc.constant(template);

const query = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 20 }).map((text) => `?${encodeURIComponent(text)}`),
  fc.constantFrom('?%FF', '?a=%', '?a[b][c]=1', '?__proto__[x]=1', '?page=-1&pageSize=1e9'),
);

describe('fuzzing every route', () => {
  let app: NestExpressApplication;
  let port: number;
  let users: Account[];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  const send = ({ method, path, headers, body }: FuzzRequest) =>
    new Promise<FuzzResponse>((resolve, reject) => {
      const outgoing = httpRequest(
        { agent, host: '127.0.0.1', port, method, path, headers },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  /** The properties every answer has, whatever was asked. */
  const expectWellFormed = (request: FuzzRequest, response: FuzzResponse) => {
    const where = `${request.method} ${request.path} → ${response.status}`;
    expect({ where, serverError: response.status >= 500 }).toEqual({ where, serverError: false });
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
    if (response.status < 400 || request.method === 'HEAD') return;
    expect({ where, type: response.headers['content-type'] }).toEqual({
      where,
      type: expect.stringMatching(/^application\/problem\+json/),
    });
    const problem = JSON.parse(response.body) as Record<string, unknown>;
    expect({ where, problem }).toEqual({
      where,
      problem: expect.objectContaining({
        status: response.status,
        code: expect.stringMatching(/^[a-z_]+$/),
        title: expect.any(String),
        detail: expect.any(String),
      }),
    });
    if (Array.isArray(problem.errors)) expect(problem.errors.length).toBeLessThanOrEqual(20);
  };

  const authorization = () =>
    fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(...users).map((user) => `Bearer ${user.token}`),
      fc.constantFrom(...users).map((user) => `bearer  ${user.token} `),
      fc.string({ maxLength: 60 }).map((text) => headerSafe(`Bearer ${text}`)),
      fc.constantFrom('Bearer', 'Basic YTpi', `Bearer lk_${'A'.repeat(43)}`, 'Bearer lk_'),
    );

  const withHeaders = (
    base: fc.Arbitrary<{ method: string; path: string; body?: Buffer }>,
    extra: fc.Arbitrary<Record<string, string>> = fc.constant({}),
  ) =>
    fc
      .tuple(base, contentType, authorization(), extra)
      .map(([{ method, path, body }, type, auth, more]): FuzzRequest => {
        const headers: Record<string, string> = { ...more };
        // Node's client frames no GET or DELETE body by itself; unframed, it would be the next request.
        if (body !== undefined) {
          headers['Content-Type'] = type;
          headers['Content-Length'] = String(body.length);
        }
        if (auth !== undefined) headers.Authorization = auth;
        return withSummary({ method, path, body, headers });
      });

  beforeAll(async () => {
    app = await createTestApp();
    const server = app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    users = [await account(app), await account(app), await account(app)];
  });
  afterAll(async () => {
    agent.destroy();
    await app.close();
  });

  it(
    'answers random bodies on every route without a 5xx, errors as problem details',
    async () => {
      const ids = users.map((user) => user.id);
      const requests = withHeaders(
        fc
          .constantFrom(...ROUTES)
          .chain(({ method, path }) =>
            fc.record({ method: fc.constant(method), path: pathFor(path, ids), body: anyBody }),
          ),
      );
      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          expectWellFormed(request, await send(request));
        }),
        { numRuns: RUNS.bodies },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'answers random paths and methods without a 5xx',
    async () => {
      const ids = users.map((user) => user.id);
      const templates = [...new Set(ROUTES.map((route) => route.path))];
      const requests = withHeaders(
        fc.record({
          method: fc.constantFrom(...METHODS),
          path: fc
            .oneof(
              fc.constantFrom(...templates).chain((template) => pathFor(template, ids)),
              fc
                .array(idSegment(ids), { minLength: 1, maxLength: 4 })
                .map((segments) => `/${segments.join('/')}`),
              fc.constantFrom('/', '//users//me', '/users/me/', '/docs', '/docs-json', '/%2e%2e/'),
            )
            .chain((path) => query.map((text) => `${path}${text}`)),
          body: fc.option(fieldsBody, { nil: undefined }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          expectWellFormed(request, await send(request));
        }),
        { numRuns: RUNS.paths },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'answers random headers without a 5xx',
    async () => {
      const ids = users.map((user) => user.id);
      const headerName = fc.oneof(
        fc.constantFrom(
          'X-Request-Id',
          'X-Forwarded-For',
          'User-Agent',
          'Accept',
          'Content-Encoding',
          'Accept-Encoding',
          'Cookie',
          'If-None-Match',
          'Range',
          'Expect',
        ),
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
      );
      const headerValue = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom(
          'gzip',
          'deflate',
          'br',
          'identity, gzip',
          '1.2.3.4, ::1, garbage',
          'x'.repeat(300),
        ),
      );
      const extra = fc
        .dictionary(headerName, headerValue.map(headerSafe), { maxKeys: 5 })
        .map((headers) => {
          const kept = { ...headers };
          // Framing headers are Node's own: a wrong one is a client error, not what is tested here.
          for (const name of Object.keys(kept)) {
            if (/^(content-length|transfer-encoding|host|connection)$/i.test(name)) {
              delete kept[name];
            }
          }
          return kept;
        });
      const requests = withHeaders(
        fc
          .constantFrom(...ROUTES)
          .chain(({ method, path }) =>
            fc.record({ method: fc.constant(method), path: pathFor(path, ids), body: anyBody }),
          ),
        extra,
      );
      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          expectWellFormed(request, await send(request));
        }),
        { numRuns: RUNS.headers },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'answers raw bytes that are not HTTP with a 4xx problem, or closes the connection',
    async () => {
      const line = fc.oneof(
        fc.string({ unit: 'binary-ascii', maxLength: 80 }),
        fc.constantFrom('GET / HTTP/1.1', 'GET /users/me HTTP/9.9', 'POST /auth/login HTTP/1.1'),
      );
      const rawRequests = fc
        .tuple(line, fc.array(fc.string({ unit: 'binary-ascii', maxLength: 60 }), { maxLength: 4 }))
        .map(([first, headers]) => `${first}\r\n${headers.join('\r\n')}\r\n\r\n`);
      await fc.assert(
        fc.asyncProperty(rawRequests, async (bytes) => {
          const answer = await new Promise<string>((resolve, reject) => {
            const socket = connect(port, '127.0.0.1');
            let received = '';
            socket.setEncoding('latin1');
            socket.on('data', (chunk) => (received += chunk));
            socket.on('error', reject);
            socket.on('close', () => resolve(received));
            // Half-closing tells the server no more is coming, so every case ends.
            socket.end(bytes, 'latin1');
          });
          if (answer === '') return;
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
          expect({ bytes, status: status < 500 }).toEqual({ bytes, status: true });
          if (status >= 400) expect(answer).toMatch(/content-type: application\/problem\+json/i);
        }),
        { numRuns: RUNS.raw },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('still serves real requests afterwards', async () => {
    await api(app).get('/health/live').expect(200);
    const user = await account(app);
    await api(app)
      .get('/users/me')
      .set('Authorization', `Bearer ${user.token}`)
      .set('X-Request-Id', `after-fuzz-${randomUUID()}`)
      .expect(200);
  });
});
