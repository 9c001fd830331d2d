import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Checkpoint } from '../src/common/checkpoints.js';
import { digestEmailToken } from '../src/mail/email-tokens.js';
import { fenceKey } from '../src/sessions/session-fence.js';
import { SessionStore } from '../src/sessions/session-store.js';
import { createTestApp } from './support/app.js';
import { TestCheckpoints } from './support/checkpoints.js';
import {
  type Account,
  account,
  api,
  bearer,
  login,
  PASSWORD,
  uniqueEmail,
} from './support/factories.js';
import { startLoad } from './support/load.js';
import { eventually, TestSmtpServer, tokenFrom } from './support/smtp.js';
import { redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

const redisSkipReason = await redisUnavailableReason();
const NEW_PASSWORD = 'a passphrase after the reset';
const RESET = /Reset your password/;
const LOGINS = 10;

/**
 * The races of account flows, each asserted exactly, while a background load of reads and logins
 * (other accounts) runs through the same app over real connections; where the outcome depends on
 * the order, the Checkpoints hook forces it.
 */
describe.each(['postgres', 'redis'])('races under load, SESSION_STORE=%s', (store) => {
  const skip = store === 'redis' ? redisSkipReason : undefined;
  if (skip) console.warn(`Skipping the races under load on Redis: ${skip}`);
  const checkpoints = new TestCheckpoints();
  let smtp: TestSmtpServer;
  let app: NestExpressApplication;
  let load: ReturnType<typeof startLoad> | undefined;

  beforeAll(async () => {
    if (skip) return;
    smtp = await TestSmtpServer.start();
    app = await createTestApp({
      checkpoints,
      env: {
        SESSION_STORE: store,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: `latchkey-load-races-${randomUUID().slice(0, 8)}:`,
        SMTP_URL: smtp.url,
        REQUIRE_VERIFIED_EMAIL: 'false',
        REGISTRATION_MODE: 'standard',
        APP_BASE_URL: 'https://app.example.test',
        MAIL_WORKER: 'on',
        MAIL_QUEUE: `test-${randomUUID().slice(0, 8)}`,
        MAIL_POLL_INTERVAL_MS: '500',
        RATE_LIMITS: 'off',
        // Held transactions wait idle for the test's other side: not a dependency failure here.
        DEPENDENCY_TIMEOUT: '30s',
        // The load's logins keep their sessions: the cap must not evict its readers' sessions.
        SESSION_MAX_PER_USER: '1000',
      },
    });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const accounts = await Promise.all(Array.from({ length: 3 }, () => account(app)));
    load = startLoad(url, { accounts, readers: 2, loggers: 1 });
    await load.progressed(10);
  });
  afterEach(() => checkpoints.releaseAll());
  afterAll(async () => {
    const report = await load?.stop();
    await app?.close();
    await smtp?.stop();
    // The load itself saw no failure while the races ran.
    if (report) expect(report.failures).toEqual([]);
  });

  const test = skip ? it.skip : it;

  /** `count` logins of `user`, every one held just after its password checked out. */
  async function heldLogins(user: { id: string; email: string }, count: number) {
    const hold = checkpoints.hold('login:password-checked', user.id);
    const logins = Array.from({ length: count }, () =>
      api(app)
        .post('/auth/login')
        .send({ email: user.email, password: PASSWORD })
        .then((r) => r),
    );
    // All of them past the password check before any starts its session.
    await hold.waiting(count);
    return { hold, logins };
  }

  test(`${LOGINS} concurrent logins of one user all get distinct, working tokens`, async () => {
    const user = await account(app);
    const { hold, logins } = await heldLogins(user, LOGINS);
    hold.release();
    const responses = await Promise.all(logins);
    expect(responses.map((response) => response.status)).toEqual(Array(LOGINS).fill(200));
    const tokens = responses.map((response) => response.body.token as string);
    expect(new Set(tokens).size).toBe(LOGINS);
    for (const token of tokens) {
      expect((await api(app).get('/users/me').set(bearer(token))).body.id).toBe(user.id);
    }
    expect(await app.get(SessionStore).listForUser(user.id, new Date())).toHaveLength(LOGINS + 1);
  });

  test('a request racing the logout of its token completes as the user or gets 401; none after the logout answered succeeds', async () => {
    const user = await account(app);
    const during = Array.from({ length: 10 }, () =>
      api(app)
        .get('/users/me')
        .set(bearer(user.token))
        .then((r) => r),
    );
    await api(app).post('/auth/logout').set(bearer(user.token)).expect(204);
    const after = await Promise.all(
      Array.from({ length: 5 }, () => api(app).get('/users/me').set(bearer(user.token))),
    );
    for (const response of await Promise.all(during)) {
      if (response.status === 200) expect(response.body.id).toBe(user.id);
      else expect([response.status, response.body.code]).toEqual([401, 'invalid_token']);
    }
    expect(after.map((response) => response.status)).toEqual(Array(5).fill(401));
  });

  /** True once a transaction waits for `userId`'s session fence (the advisory lock not yet granted). */
  async function waitsForFence(userId: string): Promise<boolean> {
    const rows = (await app.get(DataSource).query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
         AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
      [fenceKey(userId)],
    )) as unknown[];
    return rows.length > 0;
  }

  const nameOf = async (userId: string) =>
    (
      (await app.get(DataSource).query('SELECT name FROM users WHERE id = $1', [userId])) as {
        name: string | null;
      }[]
    )[0].name;

  /** A rename of `user` with its own token, held at `checkpoint` until the test releases it. */
  async function heldRename(checkpoint: Checkpoint, user: Account, name: string) {
    const hold = checkpoints.hold(checkpoint, user.id);
    const patch = api(app)
      .patch(`/users/${user.id}`)
      .set(bearer(user.token))
      .send({ name })
      .then((r) => r);
    await hold.waiting(1);
    return { hold, patch };
  }

  test('a write past the guard but not yet started when its session’s logout answers makes no change and gets 401', async () => {
    const user = await account(app);
    const { hold, patch } = await heldRename('account:read', user, 'written after the logout');
    await api(app).post('/auth/logout').set(bearer(user.token)).expect(204);
    hold.release();
    const response = await patch;
    expect([response.status, response.body.code]).toEqual([401, 'invalid_token']);
    expect(await nameOf(user.id)).toBeNull();
  });

  test('a write under way when its session’s logout arrives commits before the logout answers', async () => {
    const user = await account(app);
    const { hold, patch } = await heldRename(
      'session:write-checked',
      user,
      'written before the logout',
    );
    let answered = false;
    const logout = api(app)
      .post('/auth/logout')
      .set(bearer(user.token))
      .then(async (response) => {
        answered = true;
        return { status: response.status, nameWhenAnswered: await nameOf(user.id) };
      });
    await eventually(async () => (answered || (await waitsForFence(user.id)) ? true : undefined), {
      what: 'the logout to wait for the write',
    });
    expect(answered).toBe(false);
    hold.release();
    expect((await patch).status).toBe(200);
    expect(await logout).toEqual({ status: 204, nameWhenAnswered: 'written before the logout' });
    await api(app).get('/users/me').set(bearer(user.token)).expect(401);
  });

  test('more writes of one user at once than the database pool has connections: every one commits, none waits on a second connection', async () => {
    const user = await account(app);
    const tokens = await Promise.all(Array.from({ length: 14 }, () => login(app, user.email)));
    // All 14 held before their transactions, then let go together: 14 fenced transactions at
    // once on a pool of 10. A check that took a second connection would starve the pool.
    const hold = checkpoints.hold('account:read', user.id);
    const writes = tokens.map((token, index) =>
      api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(token))
        .send({ name: `writer ${index}` })
        .then((r) => r.status),
    );
    await hold.waiting(tokens.length);
    hold.release();
    expect(await Promise.all(writes)).toEqual(Array(tokens.length).fill(200));
    const logouts = tokens.map((token) =>
      api(app)
        .post('/auth/logout')
        .set(bearer(token))
        .then((r) => r.status),
    );
    expect(await Promise.all(logouts)).toEqual(Array(tokens.length).fill(204));
    for (const token of tokens) await api(app).get('/users/me').set(bearer(token)).expect(401);
  });

  test('two users PATCHing to one new email: one 200, one 409, and the address is the winner’s', async () => {
    const [first, second] = await Promise.all([account(app), account(app)]);
    const email = uniqueEmail('contested');
    const holds = [first, second].map((user) => checkpoints.hold('account:read', user.id));
    const patches = [first, second].map((user) =>
      api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ email, currentPassword: PASSWORD })
        .then((r) => r),
    );
    // Both have read their account, so both go on to write the same address.
    await Promise.all(holds.map((hold) => hold.waiting(1)));
    for (const hold of holds) hold.release();
    const responses = await Promise.all(patches);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    const winner = responses[0].status === 200 ? first : second;
    const loser = winner === first ? second : first;
    expect(responses.find((response) => response.status === 409)?.body.code).toBe('email_taken');
    expect((await api(app).get('/users/me').set(bearer(winner.token))).body.email).toBe(email);
    expect((await api(app).get('/users/me').set(bearer(loser.token))).body.email).toBe(loser.email);
  });

  /** Requests a reset of `email` and returns the token of the mailed link. */
  async function resetToken(email: string, count: number): Promise<string> {
    await api(app).post('/auth/forgot-password').send({ email }).expect(202);
    return tokenFrom(await smtp.waitFor(email, RESET, count), 'reset-password');
  }

  test('a password reset racing logins: logins past the password check when the reset answered start no session', async () => {
    const user = await account(app);
    const token = await resetToken(user.email, 1);
    const { hold, logins } = await heldLogins(user, 3);
    await api(app).post('/auth/reset-password').send({ token, password: NEW_PASSWORD }).expect(204);
    hold.release();
    for (const response of await Promise.all(logins)) {
      expect([response.status, response.body.code]).toEqual([401, 'invalid_credentials']);
    }
    await expect(app.get(SessionStore).listForUser(user.id, new Date())).resolves.toEqual([]);
    await api(app).post('/auth/login').send({ email: user.email, password: PASSWORD }).expect(401);
    await login(app, user.email, NEW_PASSWORD);
  });

  test('a password reset racing logins: a session a login started before the reset committed ends with it', async () => {
    const user = await account(app);
    const token = await resetToken(user.email, 1);
    const hold = checkpoints.hold('token:consuming', digestEmailToken(token));
    const reset = api(app)
      .post('/auth/reset-password')
      .send({ token, password: NEW_PASSWORD })
      .then((r) => r);
    await hold.waiting(1);
    const during = await login(app, user.email, PASSWORD);
    hold.release();
    expect((await reset).status).toBe(204);
    for (const ended of [during, user.token]) {
      await api(app).get('/users/me').set(bearer(ended)).expect(401);
    }
    await expect(app.get(SessionStore).listForUser(user.id, new Date())).resolves.toEqual([]);
    await login(app, user.email, NEW_PASSWORD);
  });

  test('a password reset arriving while its account is being deleted waits, then finds its link void (no deadlock)', async () => {
    const user = await account(app);
    const token = await resetToken(user.email, 1);
    // The delete holds the account's fence, about to delete the row (and, cascading, the tokens).
    const hold = checkpoints.hold('session:write-checked', user.id);
    const deletion = api(app)
      .delete(`/users/${user.id}`)
      .set(bearer(user.token))
      .then((r) => r.status);
    await hold.waiting(1);
    const reset = api(app)
      .post('/auth/reset-password')
      .send({ token, password: NEW_PASSWORD })
      .then((r) => [r.status, r.body.code]);
    await eventually(async () => ((await waitsForFence(user.id)) ? true : undefined), {
      what: 'the reset to wait for the delete',
    });
    hold.release();
    expect(await deletion).toBe(204);
    expect(await reset).toEqual([400, 'invalid_or_expired_token']);
  });

  /** An admin's session, and a way to disable `userId` through the admin route. */
  async function disabler() {
    const admin = await account(app);
    await app.get(DataSource).query(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.id]);
    return (userId: string) =>
      api(app)
        .patch(`/admin/users/${userId}`)
        .set(bearer(admin.token))
        .send({ disabled: true })
        .then((r) => r);
  }

  test('disabling racing logins: logins past the password check when the disable answered start no session', async () => {
    const disable = await disabler();
    const user = await account(app);
    const { hold, logins } = await heldLogins(user, 3);
    expect((await disable(user.id)).status).toBe(200);
    hold.release();
    for (const response of await Promise.all(logins)) {
      expect([response.status, response.body.code]).toEqual([401, 'invalid_credentials']);
    }
    await expect(app.get(SessionStore).listForUser(user.id, new Date())).resolves.toEqual([]);
    await api(app).get('/users/me').set(bearer(user.token)).expect(401);
    const refused = await api(app)
      .post('/auth/login')
      .send({ email: user.email, password: PASSWORD });
    expect([refused.status, refused.body.code]).toEqual([403, 'account_disabled']);
  });

  test('disabling racing logins: a session a login started before the disable committed ends with it', async () => {
    const disable = await disabler();
    const user = await account(app);
    const hold = checkpoints.hold('account:read', user.id);
    const disabling = disable(user.id);
    await hold.waiting(1);
    const during = await login(app, user.email, PASSWORD);
    hold.release();
    expect((await disabling).status).toBe(200);
    for (const ended of [during, user.token]) {
      await api(app).get('/users/me').set(bearer(ended)).expect(401);
    }
    await expect(app.get(SessionStore).listForUser(user.id, new Date())).resolves.toEqual([]);
  });
});
