import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createTestApp } from './support/app.js';
import { randomId } from './support/bodies.js';
import { type Account, account, api, bearer } from './support/factories.js';
import { ALL_OPERATIONS, expectDocumentIsTheApps, type MatrixOperation } from './support/matrix.js';
import { fill } from './support/security.js';

/** Every operation whose path names an object by id: users', admins' and sessions' routes. */
const ID_ROUTES = ALL_OPERATIONS.filter(({ path }) => /\{[^}]+\}/.test(path));

/**
 * What the `{id}` of a path names, by the segment before it. A path whose id this does not know
 * fails its test (it is never skipped): teach it here.
 */
const resourceOf = (path: string): 'user' | 'session' => {
  const segment = /\/([^/{}]+)\/\{[^}]+\}/.exec(path)?.[1];
  if (segment === 'users') return 'user';
  if (segment === 'sessions') return 'session';
  throw new Error(
    `${path}: the BOLA matrix does not know what its {id} names; add it to resourceOf in test/security-bola.e2e-spec.ts`,
  );
};

/** The first documented example of the body, or an empty object (authorization comes first). */
const exampleBody = ({ operation }: MatrixOperation) =>
  Object.values(operation.requestBody?.content['application/json']?.examples ?? {})[0]?.value ??
  (operation.requestBody ? {} : undefined);

describe('BOLA: every {id} route refuses an object of someone else', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('covers the routes the app has', () => {
    expectDocumentIsTheApps(app);
    expect(ID_ROUTES.length).toBeGreaterThanOrEqual(4);
  });

  /** The victim's account and sessions as the victim sees them. */
  const snapshot = async (victim: Account) => ({
    me: (await api(app).get('/users/me').set(bearer(victim.token)).expect(200)).body,
    sessions: (await api(app).get('/auth/sessions').set(bearer(victim.token)).expect(200)).body,
  });

  it.each(ID_ROUTES.map((route) => [route.name, route] as const))(
    'API1:2023 ASVS 8.2.2: %s',
    async (_, route) => {
      const resource = resourceOf(route.path);
      const attacker = await account(app);
      const victim = await account(app);
      const [victimSession] = (
        await api(app).get('/auth/sessions').set(bearer(victim.token)).expect(200)
      ).body as { id: string }[];
      const victimId = resource === 'user' ? victim.id : victimSession.id;
      const before = await snapshot(victim);

      const attack = async (id: string) => {
        const sent = request(app.getHttpServer())
          [route.method as 'get'](fill(route.path, id))
          .set(bearer(attacker.token));
        const body = exampleBody(route);
        return body === undefined ? sent : sent.send(body as object);
      };
      const onVictim = await attack(victimId);
      const onNobody = await attack(randomId());
      // Refused, and in the same way whether or not the object exists: no existence oracle either.
      expect({ route: route.name, status: onVictim.status }).toEqual({
        route: route.name,
        status: resource === 'session' ? 404 : 403,
      });
      expect({ status: onNobody.status, code: onNobody.body.code }).toEqual({
        status: onVictim.status,
        code: onVictim.body.code,
      });
      expect(await snapshot(victim)).toEqual(before);
    },
  );
});
