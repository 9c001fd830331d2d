import { randomUUID } from 'node:crypto';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request, { type Test } from 'supertest';
import { recordExchange } from './ledger.js';
import { checkAgainstOpenApi } from './openapi.js';

export const uniqueEmail = (label = 'user') => `${label}-${randomUUID().slice(0, 8)}@example.com`;
export const PASSWORD = 'correct horse battery staple';

export interface Account {
  id: string;
  email: string;
  password: string;
  token: string;
}

/**
 * supertest on the app, with every response also checked against openapi.json (status documented,
 * body matching its schema), so the document cannot drift from what the service does.
 */
export const api = (app: NestExpressApplication) => {
  const agent = request(app.getHttpServer());
  const checked =
    (method: 'get' | 'post' | 'put' | 'patch' | 'delete') =>
    (url: string): Test => {
      let sent: unknown;
      const test = agent[method](url).expect((response) => {
        recordExchange(sent, response.status, response.body);
        checkAgainstOpenApi(method, url, response);
      });
      // Keeps the body, for the ledger of the secrets the run used.
      const send = test.send.bind(test);
      test.send = (body) => {
        sent = body;
        return send(body);
      };
      return test;
    };
  return {
    get: checked('get'),
    post: checked('post'),
    put: checked('put'),
    patch: checked('patch'),
    delete: checked('delete'),
  };
};

export async function register(
  app: NestExpressApplication,
  overrides: Record<string, unknown> = {},
) {
  const body = { email: uniqueEmail(), password: PASSWORD, ...overrides };
  const response = await api(app).post('/auth/register').send(body).expect(201);
  return {
    id: response.body.id as string,
    email: body.email as string,
    password: body.password as string,
  };
}

export async function login(
  app: NestExpressApplication,
  email: string,
  password = PASSWORD,
): Promise<string> {
  const response = await api(app).post('/auth/login').send({ email, password }).expect(200);
  return response.body.token as string;
}

/** A registered user with a live session. */
export async function account(
  app: NestExpressApplication,
  overrides: Record<string, unknown> = {},
): Promise<Account> {
  const user = await register(app, overrides);
  return { ...user, token: await login(app, user.email, user.password) };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
