import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { createTestApp } from './support/app.js';
import { api, bearer } from './support/factories.js';
import { checkAgainstOpenApi, document, type OperationDoc } from './support/openapi.js';

const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
);

const isSecured = (operation: OperationDoc) =>
  (operation.security ?? document.security ?? []).some((each) => Object.keys(each).length > 0);

const examplesOf = (operation: OperationDoc) =>
  Object.entries(operation.requestBody?.content['application/json']?.examples ?? {});

const operationNamed = (id: string) => {
  const found = operations.find(({ operation }) => operation.operationId === id);
  if (!found) throw new Error(`no operation ${id} in openapi.json`);
  return found;
};

/** The one example of an operation that has exactly one. */
const onlyExample = (id: string) => {
  const examples = examplesOf(operationNamed(id).operation);
  expect(examples).toHaveLength(1);
  return examples[0][1].value as Record<string, unknown>;
};

// Its validity against the OpenAPI 3 schema is checked by `npm run openapi:check` (in CI), its
// style by `npm run lint:openapi`, and its use by a generated client by `npm run test:client`.
describe('openapi.json', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('is what the app serves at /docs-json (regenerate with npm run openapi)', async () => {
    const served = await api(app).get('/docs-json').expect(200);
    expect(document).toEqual(served.body);
  });

  it('names each operation with a verb, once', () => {
    expect(
      Object.fromEntries(
        operations.map(({ path, method, operation }) => [
          `${method} ${path}`,
          operation.operationId,
        ]),
      ),
    ).toEqual({
      'post /auth/register': 'register',
      'post /auth/login': 'login',
      'post /auth/logout': 'logout',
      'post /auth/logout-all': 'logoutAll',
      'post /auth/verify-email': 'verifyEmail',
      'post /auth/verify-email/resend': 'resendVerification',
      'post /auth/forgot-password': 'forgotPassword',
      'post /auth/reset-password': 'resetPassword',
      'get /auth/sessions': 'listSessions',
      'delete /auth/sessions/{id}': 'endSession',
      'get /users/me': 'getMe',
      'get /users/{id}': 'getUser',
      'patch /users/{id}': 'updateUser',
      'delete /users/{id}': 'deleteUser',
      'get /admin/users': 'listUsers',
      'patch /admin/users/{id}': 'administerUser',
      'post /admin/users/{id}/revoke-sessions': 'revokeUserSessions',
      'get /admin/audit-log': 'readAuditLog',
      'get /health/live': 'checkLiveness',
      'get /health/ready': 'checkReadiness',
    });
  });

  it('lists problem+json error responses, including 500, for every operation', () => {
    const problemRequired = document.components.schemas.ProblemDto.required;
    expect(problemRequired).toEqual(['type', 'title', 'status', 'detail', 'code']);
    for (const { path, method, operation } of operations) {
      const errors = Object.entries(operation.responses).filter(
        ([status]) => Number(status) >= 400,
      );
      expect({ operation: `${method} ${path}`, has500: errors.some(([s]) => s === '500') }).toEqual(
        { operation: `${method} ${path}`, has500: true },
      );
      for (const [, response] of errors) {
        // ProblemDto, or a schema that extends it (the readiness problem adds `checks`).
        expect(Object.keys(response.content ?? {})).toEqual(['application/problem+json']);
        const { $ref } = response.content?.['application/problem+json'].schema as { $ref: string };
        const schema = document.components.schemas[$ref.replace('#/components/schemas/', '')];
        expect(schema.required).toEqual(expect.arrayContaining(problemRequired ?? []));
      }
    }
  });

  it('describes every response and the headers it carries', () => {
    for (const { path, method, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers = Object.keys(response.headers ?? {});
        const expected = [
          'X-Request-Id',
          ...(/^\/(auth|users|admin)\//.test(path) ? ['Cache-Control'] : []),
          ...(status === '401' && isSecured(operation) ? ['WWW-Authenticate'] : []),
          ...(status === '429' || status === '503' ? ['Retry-After'] : []),
          ...(status === '201' ? ['Location'] : []),
        ];
        expect({
          at: `${method} ${path} ${status}`,
          described: response.description !== '',
        }).toEqual({ at: `${method} ${path} ${status}`, described: true });
        expect({ at: `${method} ${path} ${status}`, headers: headers.sort() }).toEqual({
          at: `${method} ${path} ${status}`,
          headers: expected.sort(),
        });
      }
    }
    expect(Object.keys(document.components.responses?.MethodNotAllowed.headers ?? {})).toEqual([
      'X-Request-Id',
      'Allow',
    ]);
  });

  it('closes every request body to unknown fields, as the validation pipe does', () => {
    const bodies = operations.flatMap(({ operation }) =>
      Object.values(operation.requestBody?.content ?? {}).map(
        ({ schema }) => (schema as { $ref: string }).$ref,
      ),
    );
    expect(bodies.sort()).toEqual([
      '#/components/schemas/AdminUpdateUserDto',
      '#/components/schemas/ForgotPasswordDto',
      '#/components/schemas/LoginDto',
      '#/components/schemas/RegisterDto',
      '#/components/schemas/ResetPasswordDto',
      '#/components/schemas/UpdateUserDto',
      '#/components/schemas/VerifyEmailDto',
    ]);
    for (const ref of bodies) {
      const name = ref.replace('#/components/schemas/', '');
      expect({ name, closed: document.components.schemas[name].additionalProperties }).toEqual({
        name,
        closed: false,
      });
    }
  });

  it('documents as needing a token exactly the operations the guard protects', async () => {
    for (const { path, method, operation } of operations) {
      const url = path.replace(/\{[^}]+\}/g, randomUUID());
      const sent = api(app)[method as 'get' | 'post' | 'patch' | 'delete'](url);
      const response = await (operation.requestBody ? sent.send({}) : sent);
      expect({ operation: `${method} ${path}`, unauthenticated: response.status === 401 }).toEqual({
        operation: `${method} ${path}`,
        unauthenticated: isSecured(operation),
      });
    }
  });

  it('documents a 403 on every admin operation', () => {
    for (const { path, method, operation } of operations) {
      if (!path.startsWith('/admin/')) continue;
      expect({ operation: `${method} ${path}`, has403: '403' in operation.responses }).toEqual({
        operation: `${method} ${path}`,
        has403: true,
      });
    }
  });

  it('has request examples that work as shown: register, log in, then each account change', async () => {
    const registration = onlyExample('register');
    const credentials = onlyExample('login');
    const changes = examplesOf(operationNamed('updateUser').operation);
    expect(changes.map(([name]) => name)).toEqual([
      'rename',
      'clearName',
      'changeEmail',
      'changePassword',
    ]);
    for (const [name, { value }] of changes) {
      const registered = await api(app).post('/auth/register').send(registration).expect(201);
      const { token } = (await api(app).post('/auth/login').send(credentials).expect(200)).body;
      const changed = await api(app)
        .patch(`/users/${registered.body.id}`)
        .set(bearer(token))
        .send(value as object);
      expect({ example: name, status: changed.status }).toEqual({ example: name, status: 200 });
      await api(app).delete(`/users/${registered.body.id}`).set(bearer(token)).expect(204);
    }
  });

  it('catches a response the document does not describe (the check every e2e request runs)', () => {
    const json = { 'content-type': 'application/json', 'x-request-id': 'r-1' };
    const noStore = { ...json, 'cache-control': 'no-store' };
    expect(() =>
      checkAgainstOpenApi('get', '/users/me', { status: 418, headers: noStore, body: {} }),
    ).toThrow('not documented');
    expect(() =>
      checkAgainstOpenApi('get', '/users/me', { status: 200, headers: noStore, body: { id: 42 } }),
    ).toThrow('does not match');
    expect(() =>
      checkAgainstOpenApi('post', '/auth/login', {
        status: 401,
        headers: { ...noStore, 'content-type': 'application/problem+json' },
        body: { status: 401 },
      }),
    ).toThrow('does not match');
    expect(() =>
      checkAgainstOpenApi('get', '/health/live', {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: { status: 'ok' },
      }),
    ).toThrow('no X-Request-Id header');
    expect(() =>
      checkAgainstOpenApi('get', '/users/me', {
        status: 401,
        headers: {
          ...noStore,
          'content-type': 'application/problem+json',
          'www-authenticate': 'Basic',
        },
        body: {
          type: 'about:blank',
          title: 'Unauthorized',
          status: 401,
          detail: 'x',
          code: 'unauthenticated',
        },
      }),
    ).toThrow('WWW-Authenticate: Basic does not match');
  });
});
