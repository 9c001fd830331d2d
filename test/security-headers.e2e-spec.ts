import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp } from './support/app.js';
import { TestCheckpoints } from './support/checkpoints.js';
import { account, bearer, register } from './support/factories.js';
import { rawExchange } from './support/raw-http.js';
import { documentedOperations, fill } from './support/security.js';

type Headers = Record<string, string | string[] | undefined>;

const YEAR = 365 * 24 * 3600;

/** The headers every response carries, whatever its status and route. */
function expectSecurityHeaders(headers: Headers, where: string) {
  const hsts = String(headers['strict-transport-security'] ?? '');
  const csp = String(headers['content-security-policy'] ?? '');
  expect({ where, maxAge: Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0) >= YEAR }).toEqual({
    where,
    maxAge: true,
  });
  expect({ where, hsts }).toEqual({ where, hsts: expect.stringMatching(/includeSubDomains/) });
  expect({ where, nosniff: headers['x-content-type-options'] }).toEqual({
    where,
    nosniff: 'nosniff',
  });
  expect({ where, csp }).toEqual({ where, csp: expect.stringContaining("frame-ancestors 'none'") });
  expect({ where, csp }).toEqual({ where, csp: expect.stringContaining("base-uri 'none'") });
  expect({ where, csp }).toEqual({
    where,
    csp: expect.stringMatching(/default-src 'none'|object-src 'none'/),
  });
  expect({ where, frame: headers['x-frame-options'] }).toEqual({ where, frame: 'DENY' });
  expect({ where, referrer: headers['referrer-policy'] }).toEqual({
    where,
    referrer: 'no-referrer',
  });
  expect({ where, poweredBy: headers['x-powered-by'] }).toEqual({ where, poweredBy: undefined });
}

describe('security headers', () => {
  const checkpoints = new TestCheckpoints();
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp({ checkpoints });
  });
  afterAll(() => app.close());

  it('ASVS 3.4.1 3.4.3 3.4.4 3.4.5 3.4.6 API8:2023: on every documented operation, with and without a token', async () => {
    const user = await account(app);
    const operations = documentedOperations(app);
    expect(operations.length).toBeGreaterThan(10);
    for (const { method, path } of operations) {
      const url = fill(path, user.id);
      for (const token of [undefined, user.token]) {
        const sent = request(app.getHttpServer())[method as 'get'](url);
        const response = await (token ? sent.set(bearer(token)) : sent);
        expectSecurityHeaders(
          response.headers,
          `${method.toUpperCase()} ${path} → ${response.status}`,
        );
      }
    }
  });

  it('ASVS 3.4.1 3.4.3 3.4.4 3.4.6 API8:2023: on every kind of error: 400, 404, 405, 413, 415, 500', async () => {
    const server = app.getHttpServer();
    const user = await register(app);
    checkpoints.fail('login:password-checked', user.id, new Error('unexpected'));
    const responses = [
      await request(server)
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send('{oops'),
      await request(server).get('/no/such/route'),
      await request(server).put('/users/me'),
      await request(server)
        .post('/auth/register')
        .send({ name: 'x'.repeat(20_000) }),
      await request(server).post('/auth/register').set('Content-Type', 'text/plain').send('hi'),
      await request(server)
        .post('/auth/login')
        .send({ email: user.email, password: user.password }),
    ];
    expect(responses.map((response) => response.status)).toEqual([400, 404, 405, 413, 415, 500]);
    for (const response of responses)
      expectSecurityHeaders(response.headers, String(response.status));
  });

  it("ASVS 3.4.3 3.4.6: on Swagger UI, its assets and the OpenAPI document; Swagger UI's policy loads only its own scripts", async () => {
    const server = app.getHttpServer();
    const page = await request(server).get('/docs').expect(200);
    expectSecurityHeaders(page.headers, '/docs');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toMatch(/script-src[^;]*unsafe/);
    for (const asset of ['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs-json']) {
      const response = await request(server).get(asset).expect(200);
      expectSecurityHeaders(response.headers, asset);
    }
  });

  it('ASVS 3.4.4 3.4.6: on what the HTTP parser refuses before the app sees it (431)', async () => {
    const server = app.getHttpServer();
    if (!server.listening)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await rawExchange(
      port,
      `GET /users/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`,
    );
    expect(response.status).toBe(431);
    expectSecurityHeaders(response.headers, '431');
  });
});

describe('security headers on 429 and 503', () => {
  it('ASVS 3.4.1 3.4.4 3.4.6: a rate-limited answer and a dependency failure carry them too', async () => {
    const app = await createTestApp({ env: { RATE_LIMITS: 'on', RATE_LIMIT_GENERAL: '2/1m' } });
    try {
      const user = await account(app);
      const server = app.getHttpServer();
      const limited = await request(server).get('/users/me').set(bearer(user.token));
      expect(limited.status).toBe(429);
      expectSecurityHeaders(limited.headers, '429');
    } finally {
      await app.close();
    }
    const broken = await createTestApp();
    try {
      const user = await account(broken);
      await broken.get(DataSource).destroy();
      const response = await request(broken.getHttpServer())
        .get('/users/me')
        .set(bearer(user.token));
      expect(response.status).toBe(503);
      expectSecurityHeaders(response.headers, '503');
    } finally {
      await broken.close();
    }
  });
});

describe('SWAGGER_ENABLED=false', () => {
  it('API9:2023 ASVS 13.4.5: serves neither Swagger UI nor the OpenAPI document', async () => {
    const app = await createTestApp({ env: { SWAGGER_ENABLED: 'false' } });
    try {
      for (const path of ['/docs', '/docs/swagger-ui-bundle.js', '/docs-json']) {
        const response = await request(app.getHttpServer()).get(path).expect(404);
        expect(response.body.code).toBe('not_found');
      }
    } finally {
      await app.close();
    }
  });
});
