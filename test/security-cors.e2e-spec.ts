import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createTestApp } from './support/app.js';
import { account, bearer } from './support/factories.js';

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

const preflight = (app: NestExpressApplication, origin: string) =>
  request(app.getHttpServer())
    .options('/users/me')
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'GET')
    .set('Access-Control-Request-Headers', 'authorization');

describe('CORS off (the default)', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('ASVS 3.4.2 API8:2023: no origin is allowed, not even by reflection', async () => {
    const user = await account(app);
    for (const origin of [ALLOWED, OTHER, 'null']) {
      const response = await request(app.getHttpServer())
        .get('/users/me')
        .set('Origin', origin)
        .set(bearer(user.token))
        .expect(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
      const answer = await preflight(app, origin);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(answer.headers['access-control-allow-methods']).toBeUndefined();
    }
  });
});

describe('CORS_ORIGINS', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp({ env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } });
  });
  afterAll(() => app.close());

  it('ASVS 3.4.2: an origin on the list is allowed by name, without credentials, and may read Retry-After and X-Request-Id', async () => {
    const user = await account(app);
    const response = await request(app.getHttpServer())
      .get('/users/me')
      .set('Origin', ALLOWED)
      .set(bearer(user.token))
      .expect(200);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(response.headers['access-control-expose-headers']).toMatch(/Retry-After/);
    expect(response.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);
    expect(response.headers.vary).toMatch(/Origin/);

    const answer = await preflight(app, 'http://localhost:5173').expect(204);
    expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(answer.headers['access-control-allow-headers']).toMatch(/Authorization/i);
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('ASVS 3.4.2 API8:2023: an origin off the list is never reflected, however close to a listed one', async () => {
    for (const origin of [
      OTHER,
      `${ALLOWED}.evil.example`,
      'https://app.example.com:8443',
      'null',
      'http://app.example.com',
    ]) {
      const response = await request(app.getHttpServer()).get('/health/live').set('Origin', origin);
      expect({ origin, allowed: response.headers['access-control-allow-origin'] }).toEqual({
        origin,
        allowed: undefined,
      });
      const answer = await preflight(app, origin);
      expect({ origin, allowed: answer.headers['access-control-allow-origin'] }).toEqual({
        origin,
        allowed: undefined,
      });
    }
  });
});
