import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { SessionStore } from '../src/sessions/session-store.js';
import { createTestApp } from './support/app.js';
import { TestCheckpoints } from './support/checkpoints.js';
import {
  account,
  api,
  bearer,
  login,
  PASSWORD,
  register,
  uniqueEmail,
} from './support/factories.js';
import { ManualClock } from './support/manual-clock.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { TEST_REDIS_URL } from './support/redis.js';

const NEW_PASSWORD = 'a different passphrase';
const LOGINS = 8;

/**
 * Each race is forced: the logins (or the PATCH) are held at a checkpoint until the other side has
 * answered, which is exactly the interleaving that used to let a session or an account survive.
 */
describe.each(['memory', 'postgres', 'redis', 'redis-cluster'])(
  'account changes cannot race, SESSION_STORE=%s',
  (store) => {
    const checkpoints = new TestCheckpoints();
    const clock = new ManualClock(new Date());
    let cluster: RedisClusterHandle | undefined;
    let app: NestExpressApplication;

    beforeAll(async () => {
      const env: Record<string, string> = {
        SESSION_STORE: store === 'redis-cluster' ? 'redis' : store,
        REDIS_KEY_PREFIX: `latchkey-races-${randomUUID().slice(0, 8)}:`,
        SESSION_MAX_PER_USER: '3',
        SESSION_TOUCH_INTERVAL: '0',
      };
      if (store === 'redis') env.REDIS_URL = TEST_REDIS_URL;
      if (store === 'redis-cluster') {
        cluster = await startRedisCluster();
        env.REDIS_CLUSTER_NODES = cluster.nodes;
      }
      app = await createTestApp({ env, checkpoints, clock });
    });
    afterEach(() => checkpoints.releaseAll());
    afterAll(async () => {
      await app?.close();
      await cluster?.stop();
    });

    const sessionsInStore = (userId: string) =>
      app.get(SessionStore).listForUser(userId, clock.now());

    /** Starts `count` logins that pass the password check and are then held. */
    async function heldLogins(
      user: { id: string; email: string },
      password: string,
      count: number,
    ) {
      const hold = checkpoints.hold('login:password-checked', user.id);
      const logins = Array.from({ length: count }, () =>
        api(app)
          .post('/auth/login')
          .send({ email: user.email, password })
          .then((r) => r),
      );
      await hold.waiting(count);
      return { hold, logins };
    }

    it('a password change ends every session a login in flight would start', async () => {
      const user = await account(app);
      const { hold, logins } = await heldLogins(user, PASSWORD, LOGINS);

      await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ password: NEW_PASSWORD, currentPassword: PASSWORD })
        .expect(200);
      hold.release();

      for (const response of await Promise.all(logins)) {
        expect(response.status).toBe(401);
        expect(response.body.code).toBe('invalid_credentials');
      }
      // The session that made the change is the only one left, and it still works.
      await api(app).get('/users/me').set(bearer(user.token)).expect(200);
      expect((await sessionsInStore(user.id)).length).toBe(1);
      await login(app, user.email, NEW_PASSWORD);
    });

    it('a DELETE that answered 204 stays deleted whatever PATCH overlapped it', async () => {
      const user = await account(app);
      const patchedEmail = uniqueEmail('patched');
      const hold = checkpoints.hold('account:read', user.id);
      const patch = api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ email: patchedEmail, password: NEW_PASSWORD, currentPassword: PASSWORD })
        .then((r) => r);
      await hold.waiting(1);

      await api(app).delete(`/users/${user.id}`).set(bearer(user.token)).expect(204);
      hold.release();

      // Its session ended with the account: it writes nothing.
      const response = await patch;
      expect([response.status, response.body.code]).toEqual([401, 'invalid_token']);
      await api(app)
        .post('/auth/login')
        .send({ email: user.email, password: PASSWORD })
        .expect(401);
      await api(app)
        .post('/auth/login')
        .send({ email: patchedEmail, password: NEW_PASSWORD })
        .expect(401);
      // Both addresses are free again.
      await register(app, { email: user.email });
      await register(app, { email: patchedEmail });
    });

    it('a password change whose own session ended meanwhile keeps no session alive', async () => {
      const user = await account(app);
      const other = await login(app, user.email);
      const hold = checkpoints.hold('account:read', user.id);
      const patch = api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ password: NEW_PASSWORD, currentPassword: PASSWORD })
        .then((r) => r);
      await hold.waiting(1);

      await api(app).post('/auth/logout-all').set(bearer(other)).expect(204);
      hold.release();

      const response = await patch;
      expect([response.status, response.body.code]).toEqual([401, 'invalid_token']);
      await api(app).get('/users/me').set(bearer(user.token)).expect(401);
      // The change did not happen: the old password still logs in.
      await login(app, user.email, PASSWORD);
    });

    it('a login overlapping a DELETE answers 401 and leaves no session behind', async () => {
      const user = await account(app);
      const { hold, logins } = await heldLogins(user, PASSWORD, 3);

      await api(app).delete(`/users/${user.id}`).set(bearer(user.token)).expect(204);
      hold.release();

      for (const response of await Promise.all(logins)) {
        expect(response.status).toBe(401);
        expect(response.body.code).toBe('invalid_credentials');
      }
      await expect(sessionsInStore(user.id)).resolves.toEqual([]);
    });

    it('logout-all also ends the sessions of logins in flight', async () => {
      const user = await account(app);
      const { hold, logins } = await heldLogins(user, PASSWORD, LOGINS);

      await api(app).post('/auth/logout-all').set(bearer(user.token)).expect(204);
      hold.release();

      for (const response of await Promise.all(logins)) {
        expect(response.status).toBe(401);
      }
      await api(app).get('/users/me').set(bearer(user.token)).expect(401);
      await expect(sessionsInStore(user.id)).resolves.toEqual([]);
      // Logging in afterwards works as usual.
      await api(app)
        .get('/users/me')
        .set(bearer(await login(app, user.email)))
        .expect(200);
    });

    it('a login beyond SESSION_MAX_PER_USER ends the least recently used session', async () => {
      const user = await register(app);
      const tokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        tokens.push(await login(app, user.email));
        clock.advance(1);
      }
      // The oldest session is used, so the second one becomes the least recently used.
      await api(app).get('/users/me').set(bearer(tokens[0])).expect(200);
      clock.advance(1);

      const fourth = await login(app, user.email);

      await api(app).get('/users/me').set(bearer(tokens[1])).expect(401);
      for (const token of [tokens[0], tokens[2], fourth]) {
        await api(app).get('/users/me').set(bearer(token)).expect(200);
      }
      const listed = await api(app).get('/auth/sessions').set(bearer(fourth)).expect(200);
      expect(listed.body).toHaveLength(3);
      expect((await sessionsInStore(user.id)).length).toBe(3);
    });
  },
);
