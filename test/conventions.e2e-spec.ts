import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createTestApp } from './support/app.js';
import { TestCheckpoints } from './support/checkpoints.js';
import { account, api, bearer, PASSWORD, register, uniqueEmail } from './support/factories.js';

const OVERSIZED = JSON.stringify({
  email: 'a@example.com',
  password: PASSWORD,
  name: 'x'.repeat(17 * 1024),
});

describe('conventions of every route', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  describe('X-Request-Id', () => {
    it('echoes a well-formed incoming id', async () => {
      const response = await api(app)
        .get('/users/me')
        .set('X-Request-Id', 'trace-1.2_3')
        .expect(401);
      expect(response.headers['x-request-id']).toBe('trace-1.2_3');
    });

    it.each([['a'.repeat(129)], ['has space'], ['semi;colon'], ['']])(
      'replaces %p with a generated one',
      async (id) => {
        const response = await api(app).get('/nowhere').set('X-Request-Id', id);
        expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      },
    );

    it('is on successful responses too, and differs per request', async () => {
      const first = await api(app).get('/docs-json').expect(200);
      const second = await api(app).get('/docs-json').expect(200);
      expect(first.headers['x-request-id']).toBeTruthy();
      expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
    });
  });

  it('sends Cache-Control: no-store under /auth and /users, errors included, and never X-Powered-By', async () => {
    const user = await account(app);
    const responses = await Promise.all([
      api(app).get('/users/me').set(bearer(user.token)),
      api(app).get('/users/me'),
      api(app).post('/auth/login').send({ email: user.email, password: 'wrong password' }),
      api(app).get('/users/me/extra'),
    ]);
    for (const response of responses) {
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('answers an unknown route with a 404 not_found problem', async () => {
    const response = await api(app).get('/no/such/route').expect(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: expect.any(String),
      code: 'not_found',
    });
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const response = await api(app).put('/auth/login').send({}).expect(405);
    expect(response.body.code).toBe('method_not_allowed');
    expect(response.headers.allow).toBe('POST');
  });

  describe('request bodies (checked before authentication)', () => {
    it('refuses a body over 16 KiB with 413 payload_too_large', async () => {
      const response = await api(app)
        .post('/auth/register')
        .set('Content-Type', 'application/json')
        .send(OVERSIZED)
        .expect(413);
      expect(response.body.code).toBe('payload_too_large');
      await api(app)
        .patch('/users/me')
        .set('Content-Type', 'application/json')
        .send(OVERSIZED)
        .expect(413);
    });

    it.each([
      ['text/plain', 'email=a@example.com'],
      ['application/x-www-form-urlencoded', 'email=a%40example.com&password=x'],
      ['application/xml', '<user/>'],
    ])('refuses %s with 415 unsupported_media_type', async (type, body) => {
      const response = await api(app)
        .post('/auth/register')
        .set('Content-Type', type)
        .send(body)
        .expect(415);
      expect(response.body.code).toBe('unsupported_media_type');
      await api(app).post('/auth/logout').set('Content-Type', type).send(body).expect(415);
    });

    it('accepts application/json with a charset', async () => {
      await api(app)
        .post('/auth/register')
        .set('Content-Type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ email: uniqueEmail(), password: PASSWORD }))
        .expect(201);
    });

    it('refuses malformed JSON with 400 malformed_json, before authentication', async () => {
      for (const path of ['/auth/register', '/auth/logout']) {
        const response = await api(app)
          .post(path)
          .set('Content-Type', 'application/json')
          .send('{"email":')
          .expect(400);
        expect(response.body.code).toBe('malformed_json');
      }
    });

    it('refuses a JSON body that is not an object with 400', async () => {
      for (const body of ['[]', '"text"', '42', 'null']) {
        const response = await api(app)
          .post('/auth/register')
          .set('Content-Type', 'application/json')
          .send(body);
        expect(response.status).toBe(400);
        expect(['malformed_json', 'validation_failed']).toContain(response.body.code);
      }
    });

    it('answers an empty body as missing fields (400 validation_failed)', async () => {
      const response = await api(app).post('/auth/register').expect(400);
      expect(response.body.code).toBe('validation_failed');
    });
  });

  describe('order of checks', () => {
    it('authentication (401) comes before a malformed id (400), which comes before permission (403)', async () => {
      const user = await account(app);
      await api(app).patch('/users/bad-id').send({ name: 'x' }).expect(401);
      await api(app).patch('/users/bad-id').set(bearer(user.token)).send({ name: 'x' }).expect(400);
    });

    it('permission (403) comes before body validation (400), which comes before the operation', async () => {
      const [alice, bob] = [await account(app), await account(app)];
      await api(app)
        .patch(`/users/${bob.id}`)
        .set(bearer(alice.token))
        .send({ role: 'admin' })
        .expect(403);
      await api(app)
        .patch(`/users/${alice.id}`)
        .set(bearer(alice.token))
        .send({ role: 'admin' })
        .expect(400);
    });
  });

  describe('OpenAPI', () => {
    it('serves Swagger UI at /docs', async () => {
      const response = await api(app).get('/docs').redirects(1).expect(200);
      expect(response.text).toContain('swagger-ui');
    });

    it('documents every core route with responses, problem errors and bearer auth', async () => {
      const { body: document } = await api(app).get('/docs-json').expect(200);
      expect(document.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      const routes: [string, string, string[], boolean][] = [
        ['/auth/register', 'post', ['201', '400', '409', '413', '415'], false],
        ['/auth/login', 'post', ['200', '400', '401'], false],
        ['/auth/logout', 'post', ['204', '401'], true],
        ['/users/me', 'get', ['200', '401'], true],
        ['/users/{id}', 'get', ['200', '400', '401', '403', '404'], true],
        ['/users/{id}', 'patch', ['200', '400', '401', '403', '409'], true],
        ['/users/{id}', 'delete', ['204', '401', '403'], true],
      ];
      for (const [path, method, statuses, secured] of routes) {
        const operation = document.paths[path]?.[method];
        expect(operation).toBeDefined();
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(statuses));
        for (const status of statuses.filter((s) => Number(s) >= 400)) {
          expect(operation.responses[status].content['application/problem+json'].schema.$ref).toBe(
            '#/components/schemas/ProblemDto',
          );
        }
        expect(Boolean(operation.security?.some((entry: object) => 'bearer' in entry))).toBe(
          secured,
        );
      }
      expect(document.paths['/auth/register'].post.requestBody).toBeDefined();
      expect(document.paths['/users/{id}'].patch.requestBody).toBeDefined();
    });
  });
});

describe('an unexpected failure', () => {
  it('is a 500 internal_error problem with a generic detail', async () => {
    const checkpoints = new TestCheckpoints();
    const app = await createTestApp({ logger: false, checkpoints });
    const user = await register(app);
    checkpoints.fail(
      'login:password-checked',
      user.id,
      new Error('boom in /work/src/x.ts: typeorm pg postgres'),
    );
    const response = await api(app)
      .post('/auth/login')
      .send({ email: user.email, password: user.password })
      .expect(500);
    expect(response.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: expect.any(String),
      code: 'internal_error',
    });
    expect(response.text).not.toMatch(/typeorm|postgres|pg|\/work|\.ts|at /i);
    await app.close();
  });
});
