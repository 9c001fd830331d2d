import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import request, { type Response } from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp } from './support/app.js';
import { TestCheckpoints } from './support/checkpoints.js';
import { account, bearer, register } from './support/factories.js';
import { expectNoInternals } from './support/internals.js';
import { ALL_OPERATIONS } from './support/matrix.js';
import { rawExchange } from './support/raw-http.js';
import { fill } from './support/security.js';

const GENERIC_5XX =
  /^(The server could not complete the request\. It has been logged\.|A service this request needs is not answering\. Try again shortly\.|Not ready: [a-z, ]+ not answering\.)$/;

/** Problem details and nothing else; a 5xx says only that it failed. */
function expectCleanProblem(where: string, status: number, text: string, contentType: string) {
  expect({ where, contentType }).toEqual({
    where,
    contentType: expect.stringMatching(/^application\/problem\+json/),
  });
  const body = JSON.parse(text) as Record<string, unknown>;
  expect({
    where,
    members: Object.keys(body).filter(
      (key) => !['type', 'title', 'status', 'detail', 'code', 'errors', 'checks'].includes(key),
    ),
  }).toEqual({ where, members: [] });
  expect(body.status).toBe(status);
  expectNoInternals(where, text);
  if (status >= 500)
    expect({ where, detail: body.detail }).toEqual({
      where,
      detail: expect.stringMatching(GENERIC_5XX),
    });
}

const check = (where: string, response: Response) =>
  expectCleanProblem(where, response.status, response.text, response.headers['content-type'] ?? '');

describe('no internals in any error', () => {
  const checkpoints = new TestCheckpoints();
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp({ checkpoints });
  });
  afterAll(() => app.close());

  it('API8:2023 ASVS 16.5.1: every documented operation, without a token, with a bad one, and with a malformed id or body', async () => {
    const server = app.getHttpServer();
    for (const { method, path, name } of ALL_OPERATIONS) {
      const attempts = [
        request(server)[method as 'get'](fill(path, 'not-a-uuid')),
        request(server)[method as 'get'](fill(path, 'not-a-uuid')).set(bearer('lk_forged')),
        request(server)
          [method as 'post'](fill(path, '00000000-0000-0000-0000-000000000000'))
          .set('Content-Type', 'application/json')
          .send('{"email": [1, {"$where": "sleep(1)"}], '),
      ];
      for (const response of await Promise.all(attempts)) {
        if (response.status >= 400) check(`${name} → ${response.status}`, response);
      }
    }
  });

  it('API8:2023 ASVS 16.5.1: 403, 404, 405, 409, 413, 415 and a 500 in the middle of a login', async () => {
    const server = app.getHttpServer();
    const [one, other] = [await account(app), await register(app)];
    checkpoints.fail(
      'login:password-checked',
      other.id,
      new Error('SELECT secret FROM pg_shadow at /src/x.ts:1'),
    );
    const responses: [string, Response][] = [
      ['403', await request(server).get(`/users/${other.id}`).set(bearer(one.token))],
      ['404', await request(server).get('/etc/passwd')],
      ['405', await request(server).put('/auth/login')],
      [
        '409',
        await request(server)
          .post('/auth/register')
          .send({ email: other.email, password: 'another fine passphrase' }),
      ],
      [
        '413',
        await request(server)
          .post('/auth/login')
          .send({ email: 'x'.repeat(20_000) }),
      ],
      [
        '415',
        await request(server)
          .post('/auth/login')
          .set('Content-Type', 'application/xml')
          .send('<a/>'),
      ],
      [
        '500',
        await request(server)
          .post('/auth/login')
          .send({ email: other.email, password: other.password }),
      ],
    ];
    expect(responses.map(([, response]) => response.status)).toEqual([
      403, 404, 405, 409, 413, 415, 500,
    ]);
    for (const [where, response] of responses) check(where, response);
  });

  it('API8:2023 ASVS 16.5.1: the HTTP parser refusals (400, 431)', async () => {
    const server = app.getHttpServer();
    if (!server.listening)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    for (const [bytes, status] of [
      ['GARBAGE\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, 431],
    ] as const) {
      const response = await rawExchange(port, bytes);
      expect(response.status).toBe(status);
      expectCleanProblem(String(status), status, response.body, response.headers['content-type']);
    }
  });

  it('API8:2023 ASVS 16.5.1: a database that is gone (503, also on readiness)', async () => {
    const user = await account(app);
    await app.get(DataSource).destroy();
    const server = app.getHttpServer();
    const responses: [string, Response][] = [
      ['/users/me', await request(server).get('/users/me').set(bearer(user.token))],
      [
        '/auth/login',
        await request(server)
          .post('/auth/login')
          .send({ email: user.email, password: user.password }),
      ],
      ['/health/ready', await request(server).get('/health/ready')],
    ];
    for (const [where, response] of responses) {
      expect(response.status).toBe(503);
      check(`503 ${where}`, response);
    }
  });
});
