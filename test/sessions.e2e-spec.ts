import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { createTestApp } from './support/app.js';
import { ManualClock } from './support/manual-clock.js';
import { account, api, bearer, login } from './support/factories.js';
import { redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

const redisSkipReason = await redisUnavailableReason();
const MINUTE = 60;

describe.each(['memory', 'postgres', 'redis'])('session routes with SESSION_STORE=%s', (store) => {
  const skip = store === 'redis' ? redisSkipReason : undefined;
  if (skip) console.warn(`Skipping the session routes on Redis: ${skip}`);

  (skip ? describe.skip : describe)(skip ? `skipped: ${skip}` : 'over HTTP', () => {
    const clock = new ManualClock(new Date());
    let app: NestExpressApplication;

    beforeAll(async () => {
      app = await createTestApp({
        clock,
        env: {
          SESSION_STORE: store,
          REDIS_URL: TEST_REDIS_URL,
          SESSION_IDLE_TTL: '10m',
          SESSION_ABSOLUTE_TTL: '1h',
          SESSION_TOUCH_INTERVAL: '60s',
        },
      });
    });
    afterAll(() => app.close());

    describe('GET /auth/sessions', () => {
      it('lists your live sessions, newest first, marking the current one, with no token in sight', async () => {
        const user = await account(app);
        clock.advance(1);
        const phone = await api(app)
          .post('/auth/login')
          .set('User-Agent', 'PhoneApp/2.0')
          .send({ email: user.email, password: user.password })
          .expect(200);
        const response = await api(app).get('/auth/sessions').set(bearer(user.token)).expect(200);
        expect(response.body).toHaveLength(2);
        const [newest, oldest] = response.body;
        expect(newest).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          createdAt: expect.any(String),
          lastUsedAt: expect.any(String),
          expiresAt: phone.body.expiresAt,
          ip: expect.stringMatching(/127\.0\.0\.1|::1/),
          userAgent: 'PhoneApp/2.0',
          current: false,
        });
        expect(oldest.current).toBe(true);
        expect(response.text).not.toContain(user.token);
        expect(response.text).not.toContain(phone.body.token);
      });

      it('shows nobody else’s sessions', async () => {
        const [alice, bob] = [await account(app), await account(app)];
        const response = await api(app).get('/auth/sessions').set(bearer(alice.token)).expect(200);
        expect(response.body).toHaveLength(1);
        const bobs = await api(app).get('/auth/sessions').set(bearer(bob.token)).expect(200);
        expect(bobs.body[0].id).not.toBe(response.body[0].id);
      });

      it('needs a token (401)', async () => {
        await api(app).get('/auth/sessions').expect(401);
      });
    });

    describe('DELETE /auth/sessions/{id}', () => {
      it('ends that session at once (204)', async () => {
        const user = await account(app);
        const other = await login(app, user.email);
        const listed = await api(app).get('/auth/sessions').set(bearer(other)).expect(200);
        const target = listed.body.find((session: { current: boolean }) => !session.current);
        await api(app).delete(`/auth/sessions/${target.id}`).set(bearer(other)).expect(204);
        await api(app).get('/users/me').set(bearer(user.token)).expect(401);
        await api(app).get('/users/me').set(bearer(other)).expect(200);
        const again = await api(app)
          .delete(`/auth/sessions/${target.id}`)
          .set(bearer(other))
          .expect(404);
        expect(again.body.code).toBe('not_found');
      });

      it('answers 404 for another user’s session or an unknown id, and ends nothing', async () => {
        const [alice, bob] = [await account(app), await account(app)];
        const bobs = await api(app).get('/auth/sessions').set(bearer(bob.token)).expect(200);
        for (const id of [bobs.body[0].id, randomUUID()]) {
          const response = await api(app)
            .delete(`/auth/sessions/${id}`)
            .set(bearer(alice.token))
            .expect(404);
          expect(response.body.code).toBe('not_found');
        }
        await api(app).get('/users/me').set(bearer(bob.token)).expect(200);
      });

      it('answers a malformed id with 400, after authentication', async () => {
        const user = await account(app);
        await api(app).delete('/auth/sessions/xyz').expect(401);
        const response = await api(app)
          .delete('/auth/sessions/xyz')
          .set(bearer(user.token))
          .expect(400);
        expect(response.body).toMatchObject({
          code: 'validation_failed',
          errors: [{ field: 'id' }],
        });
      });
    });

    describe('POST /auth/logout-all', () => {
      it('ends every session of the user, the current one too, and no one else’s', async () => {
        const [user, stranger] = [await account(app), await account(app)];
        const other = await login(app, user.email);
        await api(app).post('/auth/logout-all').set(bearer(user.token)).expect(204);
        for (const token of [user.token, other]) {
          await api(app).get('/users/me').set(bearer(token)).expect(401);
        }
        await api(app).get('/users/me').set(bearer(stranger.token)).expect(200);
        await login(app, user.email);
      });

      it('needs a token (401)', async () => {
        await api(app).post('/auth/logout-all').expect(401);
      });
    });

    describe('expiry', () => {
      it('reports the idle bound at login and slides it with use', async () => {
        const user = await account(app);
        const sessionExpiry = async () =>
          (await api(app).get('/auth/sessions').set(bearer(user.token)).expect(200)).body[0]
            .expiresAt;
        const loginAt = clock.now().getTime();
        expect(Date.parse(await sessionExpiry())).toBe(loginAt + 10 * MINUTE * 1000);
        clock.advance(9 * MINUTE);
        expect(Date.parse(await sessionExpiry())).toBe(clock.now().getTime() + 10 * MINUTE * 1000);
      });

      it('ends a session unused for the idle timeout', async () => {
        const user = await account(app);
        clock.advance(10 * MINUTE);
        const response = await api(app).get('/users/me').set(bearer(user.token)).expect(401);
        expect(response.body.code).toBe('invalid_token');
      });

      it('ends a session at the absolute timeout even with steady use, and says so at login', async () => {
        const user = await account(app);
        const loginAt = clock.now().getTime();
        for (let minutes = 9; minutes < 60; minutes += 9) {
          clock.advance(9 * MINUTE);
          await api(app).get('/users/me').set(bearer(user.token)).expect(200);
        }
        const [listed] = (await api(app).get('/auth/sessions').set(bearer(user.token)).expect(200))
          .body;
        expect(Date.parse(listed.expiresAt)).toBe(loginAt + 60 * MINUTE * 1000);
        clock.advance((loginAt + 60 * MINUTE * 1000 - clock.now().getTime()) / 1000);
        await api(app).get('/users/me').set(bearer(user.token)).expect(401);
      });
    });
  });
});

describe('the client IP of a session', () => {
  const sessionIp = async (env: Record<string, string>) => {
    const app = await createTestApp({ env });
    try {
      const user = await account(app);
      const forwarded = await api(app)
        .post('/auth/login')
        .set('X-Forwarded-For', '198.51.100.23')
        .send({ email: user.email, password: user.password })
        .expect(200);
      const [newest] = (
        await api(app).get('/auth/sessions').set(bearer(forwarded.body.token)).expect(200)
      ).body;
      return newest.ip;
    } finally {
      await app.close();
    }
  };

  it('ignores X-Forwarded-For by default, which any client could forge', async () => {
    expect(await sessionIp({})).not.toBe('198.51.100.23');
  });

  it('takes it from X-Forwarded-For sent by a trusted proxy (TRUST_PROXY)', async () => {
    expect(await sessionIp({ TRUST_PROXY: 'loopback' })).toBe('198.51.100.23');
  });
});
