import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp } from './support/app.js';
import { randomId, requestSchema, validBody, withMember } from './support/bodies.js';
import { account, bearer } from './support/factories.js';
import {
  adminAccount,
  ALL_OPERATIONS,
  expectDocumentIsTheApps,
  isAdminRoute,
} from './support/matrix.js';
import { fill } from './support/security.js';

/** Every operation that takes a body. */
const BODY_ROUTES = ALL_OPERATIONS.filter(({ operation }) => operation.requestBody !== undefined);

/**
 * Properties of a user (and of JavaScript objects) that no client may set through a body that does
 * not declare them, with the value an attacker would like.
 */
const MASS_ASSIGNED: [string, unknown][] = [
  ['role', 'admin'],
  ['id', randomId()],
  ['emailVerified', true],
  ['disabled', false],
  ['passwordHash', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'],
  ['password_hash', 'x'],
  ['credentialVersion', 0],
  ['createdAt', '2000-01-01T00:00:00.000Z'],
  ['__proto__', { role: 'admin', emailVerified: true }],
  ['constructor', { prototype: { role: 'admin' } }],
  ['prototype', { role: 'admin' }],
];

describe('BOPLA: no body assigns a property it does not declare', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('covers the bodies the app takes', () => {
    expectDocumentIsTheApps(app);
    expect(BODY_ROUTES.length).toBeGreaterThanOrEqual(6);
  });

  it.each(BODY_ROUTES.map((route) => [route.name, route] as const))(
    'API3:2023 ASVS 8.2.3 15.3.3 15.3.6: %s',
    async (_, route) => {
      const actor = isAdminRoute(route.path) ? await adminAccount(app) : await account(app);
      const declared = Object.keys(requestSchema(route.operation).properties);
      const attempts = MASS_ASSIGNED.filter(([key]) => !declared.includes(key));
      expect(attempts.length).toBeGreaterThan(0);
      for (const [key, value] of attempts) {
        const body = withMember(validBody(route.operation, actor), key, value);
        const sent = request(app.getHttpServer())
          [route.method as 'post'](fill(route.path, actor.id))
          .set('Content-Type', 'application/json');
        const response = await (route.secured ? sent.set(bearer(actor.token)) : sent).send(body);
        expect({ key, status: response.status, code: response.body.code }).toEqual({
          key,
          status: 400,
          code: 'validation_failed',
        });
        expect(response.body.errors).toContainEqual({
          field: key,
          message: 'is not an allowed field',
        });
      }
      // Nothing was assigned, to the account or to any object's prototype.
      const [row] = await app
        .get(DataSource)
        .query('SELECT role, email_verified, credential_version FROM users WHERE id = $1', [
          actor.id,
        ]);
      expect(row).toEqual({
        role: isAdminRoute(route.path) ? 'admin' : 'user',
        email_verified: false,
        credential_version: row.credential_version,
      });
      expect(({} as Record<string, unknown>).role).toBeUndefined();
      expect(({} as Record<string, unknown>).emailVerified).toBeUndefined();
    },
  );
});
