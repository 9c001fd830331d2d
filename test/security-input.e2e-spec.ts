import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp } from './support/app.js';
import { requestSchema, validBody } from './support/bodies.js';
import { account, bearer } from './support/factories.js';
import { expectNoInternals } from './support/internals.js';
import {
  adminAccount,
  ALL_OPERATIONS,
  expectDocumentIsTheApps,
  isAdminRoute,
} from './support/matrix.js';
import { checkAgainstOpenApi } from './support/openapi.js';
import { fill } from './support/security.js';

const BODY_ROUTES = ALL_OPERATIONS.filter(({ operation }) => operation.requestBody !== undefined);

/** Values of the wrong JSON type for a field of each documented type. */
const CONFUSION: Record<string, unknown[]> = {
  string: [0, 123, -1.5, true, false, [], ['x'], {}, { $gt: '' }, { toString: 'x' }],
  boolean: ['true', 'false', 1, 0, [], {}, [true]],
};

/** Strings of the right type that attackers and fuzzers send; none may cause a 5xx. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b@example.com',
  '\ud800',
  'x\udfff\ud800y',
  '\u202eevil\u202c',
  '\u200b',
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  '${7*7}{{7*7}}<%= 7*7 %>',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00%0d%0aX-Injected: 1',
  '\r\nSet-Cookie: a=b',
  '__proto__',
  'x'.repeat(10_000),
  '🔑'.repeat(300),
  // Mixed case and a trailing space: normalized, then a fresh address (never one other tests use).
  ` Matrix-${randomUUID().slice(0, 8)}@Example.COM `,
];

describe('type confusion and hostile strings in every body field', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('covers the bodies the app takes', () => {
    expectDocumentIsTheApps(app);
  });

  it.each(BODY_ROUTES.map((route) => [route.name, route] as const))(
    'ASVS 15.3.5 2.2.1 API8:2023: %s',
    async (_, route) => {
      const actor = isAdminRoute(route.path) ? await adminAccount(app) : await account(app);
      const { properties } = requestSchema(route.operation);
      const send = (body: Record<string, unknown>) => {
        const sent = request(app.getHttpServer())[route.method as 'post'](
          fill(route.path, actor.id),
        );
        return (route.secured ? sent.set(bearer(actor.token)) : sent).send(body);
      };
      for (const [field, schema] of Object.entries(properties)) {
        const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? 'string');
        const confusion = CONFUSION[type];
        if (!confusion) {
          throw new Error(
            `${route.name}: no type-confusion values for ${field} of type ${type}; add them`,
          );
        }
        const values = schema.nullable ? confusion : [...confusion, null];
        for (const value of values) {
          const response = await send({ ...validBody(route.operation, actor), [field]: value });
          const where = `${route.name} ${field}=${JSON.stringify(value)}`;
          expect({ where, status: response.status, code: response.body.code }).toEqual({
            where,
            status: 400,
            code: 'validation_failed',
          });
          expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(
            field,
          );
          checkAgainstOpenApi(route.method, fill(route.path, actor.id), response);
        }
        if (type !== 'string') continue;
        for (const value of HOSTILE_STRINGS) {
          const response = await send({ ...validBody(route.operation, actor), [field]: value });
          const where = `${route.name} ${field}=${JSON.stringify(value).slice(0, 40)}`;
          expect({ where, serverError: response.status >= 500 }).toEqual({
            where,
            serverError: false,
          });
          if (response.status >= 400) {
            expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
            expectNoInternals(where, response.text);
          }
          checkAgainstOpenApi(route.method, fill(route.path, actor.id), response);
        }
      }
    },
  );
});
