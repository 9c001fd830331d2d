import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createTestApp } from './support/app.js';
import { api } from './support/factories.js';
import { checkAgainstOpenApi, document } from './support/openapi.js';

// Its validity against the OpenAPI 3 schema is checked by `npm run openapi:check` (in CI).
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

  it('lists problem+json error responses, including 500, for every operation', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const errors = Object.entries(operation.responses).filter(
          ([status]) => Number(status) >= 400,
        );
        expect({
          operation: `${method} ${path}`,
          has500: errors.some(([status]) => status === '500'),
        }).toEqual({
          operation: `${method} ${path}`,
          has500: true,
        });
        for (const [, response] of errors) {
          expect(response.content).toEqual({
            'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } },
          });
        }
      }
    }
  });

  it('catches a response the document does not describe (the check every e2e request runs)', () => {
    const json = { 'content-type': 'application/json' };
    expect(() =>
      checkAgainstOpenApi('get', '/users/me', { status: 418, headers: json, body: {} }),
    ).toThrow('not documented');
    expect(() =>
      checkAgainstOpenApi('get', '/users/me', { status: 200, headers: json, body: { id: 42 } }),
    ).toThrow('does not match');
    expect(() =>
      checkAgainstOpenApi('post', '/auth/login', {
        status: 401,
        headers: { 'content-type': 'application/problem+json' },
        body: { status: 401 },
      }),
    ).toThrow('does not match');
  });
});
