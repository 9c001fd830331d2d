import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { createTestApp } from './support/app.js';
import {
  account,
  api,
  bearer,
  login,
  PASSWORD,
  register,
  uniqueEmail,
} from './support/factories.js';
import { type RawResponse, rawExchange } from './support/raw-http.js';
import { redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

const JSON_TYPE = 'application/json';
const problemType = /^application\/problem\+json/;

/** A body nested `depth` arrays deep, within the 16 KiB limit. */
const nested = (depth: number) => `{"name":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

interface PlainResponse {
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request through Node's client: bytes sent as they are, or only the headers when no body. */
function plainRequest(
  port: number,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ port, host: '127.0.0.1', method: 'POST', path, headers });
    outgoing.on('response', (incoming) => {
      let text = '';
      incoming.on('data', (chunk) => (text += chunk));
      incoming.on('end', () =>
        resolve({ status: incoming.statusCode, headers: incoming.headers, body: text }),
      );
    });
    outgoing.on('error', reject);
    if (body) outgoing.end(body);
    else outgoing.flushHeaders();
  });
}

describe('input handling', () => {
  let app: NestExpressApplication;
  let db: DataSource;
  let port: number;

  beforeAll(async () => {
    app = await createTestApp();
    db = app.get(DataSource);
    const server = app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  describe('body-level checks (before authentication)', () => {
    it('answers a declared Content-Length over 16 KiB with 413 at once, without waiting for the body', async () => {
      // Only the headers: a server that waited for the 20 MiB would never answer.
      const response = await plainRequest(port, '/auth/register', {
        'Content-Type': JSON_TYPE,
        'Content-Length': String(20 * 1024 * 1024),
      });
      expect(response.status).toBe(413);
      expect(response.headers).toMatchObject({
        'content-type': expect.stringMatching(problemType),
        connection: 'close',
        'x-request-id': expect.any(String),
      });
      expect(JSON.parse(response.body)).toMatchObject({ code: 'payload_too_large', status: 413 });
    });

    it.each(['utf-7', 'UTF-7', 'utf-16', 'utf-16le', 'latin1', 'iso-8859-1'])(
      'refuses charset=%s with 415 unsupported_media_type',
      async (charset) => {
        for (const path of ['/auth/register', '/auth/logout']) {
          const response = await api(app)
            .post(path)
            .set('Content-Type', `${JSON_TYPE}; charset=${charset}`)
            .send(JSON.stringify({ email: uniqueEmail(), password: PASSWORD }))
            .expect(415);
          expect(response.body.code).toBe('unsupported_media_type');
        }
      },
    );

    it.each(['UTF-8', 'utf-8', '"utf-8"'])('accepts charset=%s', async (charset) => {
      await api(app)
        .post('/auth/register')
        .set('Content-Type', `${JSON_TYPE}; charset=${charset}`)
        .send(JSON.stringify({ email: uniqueEmail(), password: PASSWORD }))
        .expect(201);
    });

    it('refuses bytes that are not UTF-8 with 400 malformed_json rather than replacing them', async () => {
      const body = Buffer.concat([
        Buffer.from(`{"email":"${uniqueEmail()}","password":"${PASSWORD}`),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
      const response = await plainRequest(
        port,
        '/auth/register',
        { 'Content-Type': JSON_TYPE },
        body,
      );
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ code: 'malformed_json', status: 400 });
    });

    it('refuses a body nested thousands deep within 16 KiB with 400 malformed_json, before authentication', async () => {
      const deep = nested(8000);
      expect(Buffer.byteLength(deep)).toBeLessThan(16 * 1024);
      for (const path of ['/auth/register', '/auth/login', '/auth/logout']) {
        const response = await api(app)
          .post(path)
          .set('Content-Type', JSON_TYPE)
          .send(deep)
          .expect(400);
        expect(response.body).toMatchObject({ code: 'malformed_json', status: 400 });
      }
      const user = await account(app);
      await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .set('Content-Type', JSON_TYPE)
        .send(`{"a":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`)
        .expect(400)
        .expect((response) => expect(response.body.code).toBe('malformed_json'));
    });

    it('lets 32 levels of nesting through to validation, and refuses 33', async () => {
      const within = await api(app)
        .post('/auth/register')
        .set('Content-Type', JSON_TYPE)
        .send(nested(32))
        .expect(400);
      expect(within.body.code).toBe('validation_failed');
      const beyond = await api(app)
        .post('/auth/register')
        .set('Content-Type', JSON_TYPE)
        .send(nested(33))
        .expect(400);
      expect(beyond.body.code).toBe('malformed_json');
    });
  });

  describe('unknown fields', () => {
    it.each(['__proto__', 'constructor', 'prototype'])(
      'refuses %s in a register body as a field that is not allowed, and creates nothing',
      async (key) => {
        const email = uniqueEmail();
        const response = await api(app)
          .post('/auth/register')
          .set('Content-Type', JSON_TYPE)
          .send(`{"email":"${email}","password":"${PASSWORD}","${key}":{"role":"admin"}}`)
          .expect(400);
        expect(response.body).toMatchObject({ code: 'validation_failed' });
        expect(response.body.errors).toEqual([{ field: key, message: 'is not an allowed field' }]);
        expect(await db.query('SELECT 1 FROM users WHERE email = $1', [email])).toHaveLength(0);
      },
    );

    it('lists prototype keys with the other errors of an update body', async () => {
      const user = await account(app);
      const response = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .set('Content-Type', JSON_TYPE)
        .send('{"__proto__":{"role":"admin"},"constructor":1,"role":"admin","name":""}')
        .expect(400);
      expect(response.body.errors).toEqual(
        expect.arrayContaining([
          { field: '__proto__', message: 'is not an allowed field' },
          { field: 'constructor', message: 'is not an allowed field' },
          { field: 'role', message: 'is not an allowed field' },
          expect.objectContaining({ field: 'name' }),
        ]),
      );
      const me = await api(app).get('/users/me').set(bearer(user.token)).expect(200);
      expect(me.body.role).toBe('user');
    });

    it('lists at most 20 errors for a 16 KiB body of unknown keys', async () => {
      const keys = Array.from({ length: 1700 }, (_, i) => `"k${i}":0`);
      const body = `{${keys.join(',')}}`.slice(0, 16 * 1024 - 1).replace(/,[^,]*$/, '}');
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(16 * 1024);
      const response = await api(app)
        .post('/auth/register')
        .set('Content-Type', JSON_TYPE)
        .send(body)
        .expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors).toHaveLength(20);
    });
  });

  describe('ids in paths', () => {
    it('answers malformed percent-encoding in an id after authentication, as 400 validation_failed', async () => {
      const user = await account(app);
      for (const path of ['/users/%FF', '/users/%E0%A4%A', '/auth/sessions/%FF']) {
        const method = path.startsWith('/users') ? 'get' : 'delete';
        const anonymous = await api(app)[method](path).expect(401);
        expect(anonymous.body.code).toBe('unauthenticated');
        const signedIn = await api(app)[method](path).set(bearer(user.token)).expect(400);
        expect(signedIn.body).toMatchObject({
          code: 'validation_failed',
          errors: [{ field: 'id', message: 'must be a UUID' }],
        });
      }
      // A body-level error still comes first.
      await api(app)
        .patch('/users/%FF')
        .set('Content-Type', JSON_TYPE)
        .send('{"name":')
        .expect(400)
        .expect((response) => expect(response.body.code).toBe('malformed_json'));
    });

    it('answers malformed percent-encoding in an unknown path with 404', async () => {
      const response = await api(app).get('/nowhere/%FF').expect(404);
      expect(response.body.code).toBe('not_found');
    });

    it('takes the owner’s own id in upper case as theirs, and answers in lower case', async () => {
      const user = await account(app);
      const upper = user.id.toUpperCase();
      const read = await api(app).get(`/users/${upper}`).set(bearer(user.token)).expect(200);
      expect(read.body.id).toBe(user.id);
      const updated = await api(app)
        .patch(`/users/${upper}`)
        .set(bearer(user.token))
        .send({ name: 'Upper' })
        .expect(200);
      expect(updated.body).toMatchObject({ id: user.id, name: 'Upper' });
      await api(app).delete(`/users/${upper}`).set(bearer(user.token)).expect(204);
      await api(app).get('/users/me').set(bearer(user.token)).expect(401);
    });
  });

  describe('emails', () => {
    it('makes the NFC and NFD forms of one address one account', async () => {
      const local = `jos\u00e9-${randomUUID().slice(0, 8)}`;
      const composed = `${local}@example.com`;
      const decomposed = composed.normalize('NFD');
      expect(decomposed).not.toBe(composed);
      const created = await api(app)
        .post('/auth/register')
        .send({ email: decomposed, password: PASSWORD })
        .expect(201);
      expect(created.body.email).toBe(composed);
      const again = await api(app)
        .post('/auth/register')
        .send({ email: composed.toUpperCase(), password: PASSWORD })
        .expect(409);
      expect(again.body.code).toBe('email_taken');
      await login(app, composed);
      await login(app, decomposed);
    });

    it.each([
      ['a zero-width space', 'a\u200bb'],
      ['a zero-width joiner', 'a\u200db'],
      ['a right-to-left override', 'a\u202eb'],
      ['a byte order mark', 'a\ufeffb'],
      ['a NUL', 'a\u0000b'],
      ['an unpaired surrogate', 'a\ud800b'],
      ['an unpaired low surrogate', 'a\udc00b'],
    ])('refuses %s in an email with 400 (register and update)', async (_, local) => {
      const email = `${local}-${randomUUID().slice(0, 8)}@example.com`;
      const registered = await api(app)
        .post('/auth/register')
        .send({ email, password: PASSWORD })
        .expect(400);
      expect(registered.body).toMatchObject({
        code: 'validation_failed',
        errors: [expect.objectContaining({ field: 'email' })],
      });
      const user = await account(app);
      const updated = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ email, currentPassword: PASSWORD })
        .expect(400);
      expect(updated.body.errors).toEqual([expect.objectContaining({ field: 'email' })]);
    });
  });

  describe('names', () => {
    it.each([
      ['a control character', 'A\u0001B'],
      ['a NUL', 'A\u0000B'],
      ['an unpaired surrogate', 'A\ud83dB'],
      ['a left-to-right embedding', 'A\u202aB'],
      ['a right-to-left override', 'A\u202eB'],
      ['a left-to-right isolate', 'A\u2066B'],
      ['a pop directional isolate', 'A\u2069B'],
    ])('refuses %s in a name with 400', async (_, name) => {
      const response = await api(app)
        .post('/auth/register')
        .send({ email: uniqueEmail(), password: PASSWORD, name })
        .expect(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'name' })]);
    });

    it('accepts emoji sequences and other letters in a name', async () => {
      const name = '👩‍💻 Zoë 李';
      const user = await register(app, { name });
      const [row] = await db.query('SELECT name FROM users WHERE id = $1', [user.id]);
      expect(row.name).toBe(name);
    });
  });

  describe('passwords', () => {
    it('refuses an unpaired surrogate in a new password with 400 (register and update)', async () => {
      const password = `${PASSWORD} \ud800`;
      const registered = await api(app)
        .post('/auth/register')
        .send({ email: uniqueEmail(), password })
        .expect(400);
      expect(registered.body.errors).toEqual([
        { field: 'password', message: 'must be well-formed Unicode (no unpaired surrogates)' },
      ]);
      const user = await account(app);
      await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ password, currentPassword: PASSWORD })
        .expect(400);
      await login(app, user.email);
    });

    it('uses a password exactly as sent: spaces, NUL and U+FFFD are kept, nothing stands in for them', async () => {
      const password = `  ${PASSWORD}\u0000\ufffd  `;
      const user = await register(app, { password });
      await login(app, user.email, password);
      for (const other of [password.trim(), `  ${PASSWORD}\u0000\ud800  `]) {
        const response = await api(app)
          .post('/auth/login')
          .send({ email: user.email, password: other })
          .expect(401);
        expect(response.body.code).toBe('invalid_credentials');
      }
    });
  });

  describe('login checks only types and sizes', () => {
    it.each([
      ['a NUL in the email', 'a\u0000b@example.com'],
      ['an unpaired surrogate in the email', 'a\ud800b@example.com'],
      ['a zero-width space in the email', 'a\u200bb@example.com'],
      ['an email that is not one', 'not an email'],
      ['an email of 254 characters', `${'a'.repeat(242)}@example.com`],
    ])('answers %s with 401 invalid_credentials', async (_, email) => {
      const response = await api(app)
        .post('/auth/login')
        .send({ email, password: PASSWORD })
        .expect(401);
      expect(response.body.code).toBe('invalid_credentials');
    });

    it('answers a password with a NUL or an unpaired surrogate with 401', async () => {
      const user = await register(app);
      for (const password of [`${PASSWORD}\u0000`, `${PASSWORD}\udfff`]) {
        await api(app).post('/auth/login').send({ email: user.email, password }).expect(401);
      }
    });

    it.each([
      ['an email of 255 characters', { email: `${'a'.repeat(243)}@example.com`, password: 'x' }],
      ['a blank email', { email: '   ', password: PASSWORD }],
      ['an email that is no string', { email: ['a@example.com'], password: PASSWORD }],
      ['a password of 129 characters', { email: 'a@example.com', password: '🔑'.repeat(129) }],
      ['a password that is no string', { email: 'a@example.com', password: 12 }],
      ['an unknown field', { email: 'a@example.com', password: PASSWORD, remember: true }],
    ])('refuses %s with 400 validation_failed', async (_, body) => {
      const response = await api(app).post('/auth/login').send(body).expect(400);
      expect(response.body.code).toBe('validation_failed');
    });
  });

  describe('errors of the HTTP parser', () => {
    const expectProblem = (response: RawResponse, status: number, code: string) => {
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toMatch(problemType);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(response.body)).toEqual({
        type: 'about:blank',
        title: expect.any(String),
        status,
        detail: expect.any(String),
        code,
      });
    };

    it('answers headers that are too large with 431 headers_too_large', async () => {
      const response = await rawExchange(
        port,
        `GET /users/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`,
      );
      expectProblem(response, 431, 'headers_too_large');
    });

    it.each([
      ['a malformed request line', 'GARBAGE\r\n\r\n'],
      ['an invalid header name', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
      ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a\u0000b\r\n\r\n'],
    ])('answers %s with 400 bad_request', async (_, bytes) => {
      expectProblem(await rawExchange(port, bytes), 400, 'bad_request');
    });

    it('answers an HTTP/1.1 request without Host with 400 bad_request', async () => {
      expectProblem(await rawExchange(port, 'GET /users/me HTTP/1.1\r\n\r\n'), 400, 'bad_request');
    });

    it('answers an Expect other than 100-continue with 417 expectation_failed', async () => {
      const response = await rawExchange(
        port,
        'GET /users/me HTTP/1.1\r\nHost: x\r\nExpect: a-teapot\r\n\r\n',
      );
      expectProblem(response, 417, 'expectation_failed');
    });

    it('still answers afterwards', async () => {
      await rawExchange(port, 'GARBAGE\r\n\r\n');
      await api(app).get('/users/me').expect(401);
    });
  });
});

const redisSkipReason = await redisUnavailableReason();

describe.each(['memory', 'postgres', 'redis'])(
  'ending a session by its id in upper case, SESSION_STORE=%s',
  (store) => {
    const skip = store === 'redis' ? redisSkipReason : undefined;
    if (skip) console.warn(`Skipping the Redis case: ${skip}`);
    const test = skip ? it.skip : it;
    let app: NestExpressApplication;

    beforeAll(async () => {
      if (skip) return;
      app = await createTestApp({
        env: {
          SESSION_STORE: store,
          REDIS_URL: TEST_REDIS_URL,
          REDIS_KEY_PREFIX: `latchkey-input-${randomUUID().slice(0, 8)}:`,
        },
      });
    });
    afterAll(() => app?.close());

    test('ends that session, as the lower-case id would', async () => {
      const user = await account(app);
      const other = await login(app, user.email);
      const sessions = await api(app).get('/auth/sessions').set(bearer(other)).expect(200);
      const target = (sessions.body as { id: string; current: boolean }[]).find(
        (session) => !session.current,
      );
      expect(target?.id).toMatch(/^[0-9a-f-]{36}$/);
      await api(app)
        .delete(`/auth/sessions/${target?.id.toUpperCase()}`)
        .set(bearer(other))
        .expect(204);
      await api(app).get('/users/me').set(bearer(user.token)).expect(401);
      await api(app).get('/users/me').set(bearer(other)).expect(200);
    });
  },
);
