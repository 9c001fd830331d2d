import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditRetention, PURGE_LOCK } from '../src/audit/audit-retention.js';
import { COMMAND_LINE } from '../src/audit/origin.js';
import type { ProblemException } from '../src/common/problem.exception.js';
import { EmailTokens } from '../src/mail/email-tokens.js';
import { SessionStore } from '../src/sessions/session-store.js';
import { AccountsService } from '../src/users/accounts.service.js';
import { createTestApp, ownDatabase, type OwnDatabase } from './support/app.js';
import { TestCheckpoints } from './support/checkpoints.js';
import {
  type Account,
  account,
  api,
  bearer,
  login,
  PASSWORD,
  register,
  uniqueEmail,
} from './support/factories.js';
import { document } from './support/openapi.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { TEST_REDIS_URL } from './support/redis.js';

const NEW_PASSWORD = 'a brand new passphrase';

const promote = (app: NestExpressApplication, user: { id: string }) =>
  app.get(DataSource).query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);

/** An admin with a live session (made admin by SQL: the routes that promote need an admin first). */
async function adminAccount(app: NestExpressApplication): Promise<Account> {
  const admin = await account(app, { email: uniqueEmail('admin') });
  await promote(app, admin);
  return admin;
}

const adminOperations = Object.entries(document.paths)
  .filter(([path]) => path.startsWith('/admin/'))
  .flatMap(([path, item]) => Object.keys(item).map((method) => ({ path, method })));

describe('administration: roles and the admin routes', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('knows four admin operations', () => {
    expect(adminOperations.map(({ method, path }) => `${method} ${path}`).sort()).toEqual([
      'get /admin/audit-log',
      'get /admin/users',
      'patch /admin/users/{id}',
      'post /admin/users/{id}/revoke-sessions',
    ]);
  });

  it('answers 403 forbidden to a non-admin on every /admin route, for any id', async () => {
    const user = await account(app);
    const other = await register(app);
    for (const { path, method } of adminOperations) {
      for (const id of [user.id, other.id, randomUUID()]) {
        const sent = api(app)[method as 'get' | 'post' | 'patch'](path.replace('{id}', id));
        const response = await sent.set(bearer(user.token)).send(method === 'patch' ? {} : '');
        expect({
          at: `${method} ${path}`,
          status: response.status,
          code: response.body.code,
        }).toEqual({ at: `${method} ${path}`, status: 403, code: 'forbidden' });
      }
    }
    // The malformed id comes first (400), then the role (403), then the body (400): the contract's order.
    await api(app)
      .patch('/admin/users/not-a-uuid')
      .set(bearer(user.token))
      .send({ role: 'admin' })
      .expect(400);
    await api(app)
      .patch(`/admin/users/${user.id}`)
      .set(bearer(user.token))
      .send({ role: 'superuser' })
      .expect(403);
    // Still a plain user: nothing changed.
    expect((await api(app).get('/users/me').set(bearer(user.token)).expect(200)).body.role).toBe(
      'user',
    );
  });

  it('answers 401 on every /admin route without a token', async () => {
    for (const { path, method } of adminOperations) {
      await api(app)
        [method as 'get' | 'post' | 'patch'](path.replace('{id}', randomUUID()))
        .expect(401);
    }
  });

  it("answers 403 to a non-admin on another user's /users/{id}, whether or not it exists", async () => {
    const user = await account(app);
    const other = await register(app);
    for (const id of [other.id, randomUUID()]) {
      await api(app).get(`/users/${id}`).set(bearer(user.token)).expect(403);
      await api(app)
        .patch(`/users/${id}`)
        .set(bearer(user.token))
        .send({ name: 'Mallory' })
        .expect(403);
      await api(app).delete(`/users/${id}`).set(bearer(user.token)).expect(403);
    }
    await login(app, other.email);
  });

  it("lets an admin read, change and delete anyone's /users/{id} without their password", async () => {
    const admin = await adminAccount(app);
    const target = await account(app);
    await api(app).get(`/users/${target.id}`).set(bearer(admin.token)).expect(200);
    await api(app)
      .patch(`/users/${target.id.toUpperCase()}`)
      .set(bearer(admin.token))
      .send({ password: NEW_PASSWORD })
      .expect(200);
    await api(app).get('/users/me').set(bearer(target.token)).expect(401);
    await api(app).delete(`/users/${target.id}`).set(bearer(admin.token)).expect(204);
    await api(app).get(`/users/${target.id}`).set(bearer(admin.token)).expect(404);
  });

  describe('GET /admin/users', () => {
    const list = (admin: Account, query: Record<string, string | number>) =>
      api(app).get('/admin/users').query(query).set(bearer(admin.token));

    it('pages through the matches in a stable order, oldest first, with the total', async () => {
      const admin = await adminAccount(app);
      const tag = `paging${randomUUID().slice(0, 8)}`;
      const made: string[] = [];
      for (let i = 0; i < 5; i += 1) made.push((await register(app, { name: `${tag} ${i}` })).id);

      const pages = [];
      for (const page of [1, 2, 3]) {
        const response = await list(admin, { q: tag, page, pageSize: 2 }).expect(200);
        expect(response.body).toMatchObject({ page, pageSize: 2, total: 5 });
        pages.push(...response.body.items);
      }
      expect(pages.map((user: { id: string }) => user.id)).toEqual(made);
      expect(pages[0]).toEqual(
        expect.objectContaining({ name: `${tag} 0`, role: 'user', disabled: false }),
      );
      expect(JSON.stringify(pages)).not.toMatch(/passwordHash|argon2|credentialVersion/);
      const past = await list(admin, { q: tag, page: 4, pageSize: 2 }).expect(200);
      expect(past.body).toMatchObject({ items: [], total: 5 });
    });

    it('matches email and name substrings in any case', async () => {
      const admin = await adminAccount(app);
      const tag = `find${randomUUID().slice(0, 8)}`;
      const byEmail = await register(app, { email: `${tag}-mail@example.com` });
      const byName = await register(app, { name: `Ada ${tag.toUpperCase()} Lovelace` });
      const response = await list(admin, { q: tag.toUpperCase() }).expect(200);
      expect(response.body.items.map((user: { id: string }) => user.id)).toEqual([
        byEmail.id,
        byName.id,
      ]);
    });

    it('takes %, _, \\ and quotes in q literally', async () => {
      const admin = await adminAccount(app);
      const tag = `lit${randomUUID().slice(0, 8)}`;
      const names = {
        percent: `${tag}%x`,
        notPercent: `${tag}ax`,
        underscore: `${tag}_y`,
        notUnderscore: `${tag}zy`,
        quotes: `${tag}'"q`,
        backslash: `${tag}\\b`,
        notBackslash: `${tag}b`,
      };
      const ids = Object.fromEntries(
        await Promise.all(
          Object.entries(names).map(async ([key, name]) => [
            key,
            (await register(app, { name })).id,
          ]),
        ),
      ) as Record<keyof typeof names, string>;
      const found = async (q: string) =>
        (await list(admin, { q }).expect(200)).body.items.map((user: { id: string }) => user.id);

      expect(await found(`${tag}%`)).toEqual([ids.percent]);
      expect(await found(`${tag}_`)).toEqual([ids.underscore]);
      expect(await found(`${tag}'"`)).toEqual([ids.quotes]);
      expect(await found(`${tag}\\`)).toEqual([ids.backslash]);
      expect(await found(`' OR 1=1 --${tag}`)).toEqual([]);
      expect((await found(tag)).sort()).toEqual(Object.values(ids).sort());
    });

    it('refuses a bad page, a pageSize over 100, a control character in q and unknown parameters', async () => {
      const admin = await adminAccount(app);
      const queries: Record<string, string | number>[] = [
        { page: 0 },
        { page: 'two' },
        { page: '1e30' },
        { pageSize: 101 },
        { pageSize: 0 },
        { q: 'a\u0000b' },
        { role: 'admin' },
      ];
      for (const query of queries) {
        const response = await list(admin, query).expect(400);
        expect(response.body.code).toBe('validation_failed');
      }
      await list(admin, { pageSize: 100 }).expect(200);
    });
  });

  describe('PATCH /admin/users/{id} and revoke-sessions', () => {
    it('promotes and demotes; a demotion ends the sessions of the account', async () => {
      const admin = await adminAccount(app);
      const user = await account(app);
      const promoted = await api(app)
        .patch(`/admin/users/${user.id}`)
        .set(bearer(admin.token))
        .send({ role: 'admin' })
        .expect(200);
      expect(promoted.body).toMatchObject({ id: user.id, role: 'admin', disabled: false });
      // Promotion ends nothing: the new admin's token now opens the admin routes.
      await api(app).get('/admin/users').set(bearer(user.token)).expect(200);

      await api(app)
        .patch(`/admin/users/${user.id}`)
        .set(bearer(admin.token))
        .send({ role: 'user' })
        .expect(200);
      await api(app).get('/users/me').set(bearer(user.token)).expect(401);
      const again = await login(app, user.email);
      await api(app).get('/admin/users').set(bearer(again)).expect(403);
    });

    it('validates the body and answers 404 for no such user', async () => {
      const admin = await adminAccount(app);
      const user = await register(app);
      for (const body of [{ role: 'root' }, { disabled: 'yes' }, { role: null }, { email: 'x' }]) {
        await api(app)
          .patch(`/admin/users/${user.id}`)
          .set(bearer(admin.token))
          .send(body)
          .expect(400);
      }
      await api(app)
        .patch(`/admin/users/${randomUUID()}`)
        .set(bearer(admin.token))
        .send({ disabled: true })
        .expect(404);
      await api(app)
        .post(`/admin/users/${randomUUID()}/revoke-sessions`)
        .set(bearer(admin.token))
        .expect(404);
    });

    it('revokes every session of a user, who can log in again', async () => {
      const admin = await adminAccount(app);
      const user = await account(app);
      const second = await login(app, user.email);
      await api(app)
        .post(`/admin/users/${user.id}/revoke-sessions`)
        .set(bearer(admin.token))
        .expect(204);
      for (const token of [user.token, second])
        await api(app).get('/users/me').set(bearer(token)).expect(401);
      await login(app, user.email);
    });
  });
});

/** Disabling must end sessions wherever they live, at once. */
describe.each(['memory', 'postgres', 'redis', 'redis-cluster'])(
  'disabling an account, SESSION_STORE=%s',
  (store) => {
    let cluster: RedisClusterHandle | undefined;
    let app: NestExpressApplication;

    beforeAll(async () => {
      const env: Record<string, string> = {
        SESSION_STORE: store === 'redis-cluster' ? 'redis' : store,
        REDIS_KEY_PREFIX: `latchkey-admin-${randomUUID().slice(0, 8)}:`,
      };
      if (store === 'redis') env.REDIS_URL = TEST_REDIS_URL;
      if (store === 'redis-cluster') {
        cluster = await startRedisCluster();
        env.REDIS_CLUSTER_NODES = cluster.nodes;
      }
      app = await createTestApp({ env });
    });
    afterAll(async () => {
      await app?.close();
      await cluster?.stop();
    });

    it('ends every session at once and blocks login (403 only with the right password) until enabled', async () => {
      const admin = await adminAccount(app);
      const user = await account(app);
      const second = await login(app, user.email);

      const disabled = await api(app)
        .patch(`/admin/users/${user.id}`)
        .set(bearer(admin.token))
        .send({ disabled: true })
        .expect(200);
      expect(disabled.body).toMatchObject({ id: user.id, disabled: true });

      for (const token of [user.token, second])
        await api(app).get('/users/me').set(bearer(token)).expect(401);
      expect(await app.get(SessionStore).listForUser(user.id, new Date())).toEqual([]);

      const refused = await api(app)
        .post('/auth/login')
        .send({ email: user.email, password: PASSWORD })
        .expect(403);
      expect(refused.body.code).toBe('account_disabled');
      const wrong = await api(app)
        .post('/auth/login')
        .send({ email: user.email, password: 'not the password at all' })
        .expect(401);
      expect(wrong.body.code).toBe('invalid_credentials');

      await api(app)
        .patch(`/admin/users/${user.id}`)
        .set(bearer(admin.token))
        .send({ disabled: false })
        .expect(200);
      const token = await login(app, user.email);
      await api(app).get('/users/me').set(bearer(token)).expect(200);
    });
  },
);

describe('the last active admin', () => {
  const checkpoints = new TestCheckpoints();
  let database: OwnDatabase;
  let app: NestExpressApplication;

  // A database of its own: the rule is about every admin there is, so no other file may add one.
  beforeAll(async () => {
    database = await ownDatabase();
    app = await createTestApp({ env: { DATABASE_URL: database.url }, checkpoints });
  });
  afterEach(async () => {
    checkpoints.releaseAll();
    // Each test starts with no admin at all.
    await app.get(DataSource).query(`UPDATE users SET role = 'user' WHERE role = 'admin'`);
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const auditCount = async (admin: Account, targetId: string) =>
    (
      await api(app)
        .get('/admin/audit-log')
        .query({ targetId })
        .set(bearer(admin.token))
        .expect(200)
    ).body.total as number;

  const activeAdmins = async () =>
    (
      (await app
        .get(DataSource)
        .query(
          `SELECT count(*)::int AS count FROM users WHERE role = 'admin' AND NOT disabled`,
        )) as { count: number }[]
    )[0].count;

  it('cannot be demoted or disabled (409 last_admin), and the refusal leaves no audit row', async () => {
    const admin = await adminAccount(app);
    const before = await auditCount(admin, admin.id);
    for (const change of [{ role: 'user' }, { disabled: true }, { role: 'user', disabled: true }]) {
      const response = await api(app)
        .patch(`/admin/users/${admin.id}`)
        .set(bearer(admin.token))
        .send(change)
        .expect(409);
      expect(response.body.code).toBe('last_admin');
    }
    expect(await auditCount(admin, admin.id)).toBe(before);
    await api(app).get('/users/me').set(bearer(admin.token)).expect(200);

    // With a second admin, either may go; then the other is the last.
    const other = await adminAccount(app);
    await api(app)
      .patch(`/admin/users/${admin.id}`)
      .set(bearer(other.token))
      .send({ disabled: true })
      .expect(200);
    await api(app)
      .patch(`/admin/users/${other.id}`)
      .set(bearer(other.token))
      .send({ role: 'user' })
      .expect(409);
  });

  it('holds when the only two admins demote each other at once: exactly one succeeds, and the other’s session ended with its demotion', async () => {
    const [first, second] = [await adminAccount(app), await adminAccount(app)];
    const holds = [first, second].map((admin) => checkpoints.hold('account:read', admin.id));
    // Both requests have read their target (an active admin, one of two) before either writes.
    const demotions = [
      [first, second],
      [second, first],
    ].map(([actor, target]) =>
      api(app)
        .patch(`/admin/users/${target.id}`)
        .set(bearer(actor.token))
        .send({ role: 'user' })
        .then((response) => response),
    );
    await Promise.all(holds.map((hold) => hold.waiting(1)));
    holds.forEach((hold) => hold.release());

    const statuses = (await Promise.all(demotions)).map((response) => [
      response.status,
      response.body.code,
    ]);
    // The two wait for each other on their sessions' fences: the second finds itself demoted.
    expect(statuses.sort()).toEqual([
      [200, undefined],
      [401, 'invalid_token'],
    ]);
    expect(await activeAdmins()).toBe(1);
  });

  it('holds for two demotions from the command line at once (no session to fence): one succeeds, one is refused', async () => {
    const [first, second] = [await adminAccount(app), await adminAccount(app)];
    const holds = [first, second].map((admin) => checkpoints.hold('account:read', admin.id));
    const demotions = [first, second].map((admin) =>
      app
        .get(AccountsService)
        .administer(admin.id, { role: 'user' }, COMMAND_LINE)
        .then(
          () => 'demoted',
          (error: unknown) => (error as ProblemException).code,
        ),
    );
    // Both have read their target (an active admin, one of two) before either locks the admins.
    await Promise.all(holds.map((hold) => hold.waiting(1)));
    holds.forEach((hold) => hold.release());
    expect((await Promise.all(demotions)).sort()).toEqual(['demoted', 'last_admin']);
    expect(await activeAdmins()).toBe(1);
  });
});

describe('the audit log', () => {
  let database: OwnDatabase;
  let app: NestExpressApplication;

  beforeAll(async () => {
    database = await ownDatabase();
    app = await createTestApp({ env: { DATABASE_URL: database.url } });
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  interface Row {
    id: string;
    at: string;
    actorId: string | null;
    action: string;
    targetId: string | null;
    ip: string | null;
    requestId: string | null;
    details: Record<string, string | null> | null;
  }

  const auditLog = async (admin: Account, query: Record<string, string | number>) =>
    (
      await api(app)
        .get('/admin/audit-log')
        .query({ pageSize: 100, ...query })
        .set(bearer(admin.token))
        .expect(200)
    ).body as { items: Row[]; total: number; page: number; pageSize: number };

  /** A token as the mail worker would issue it (sending is the email-ownership tests' subject). */
  const mailedToken = (kind: 'verify' | 'reset', user: { id: string; email: string }) =>
    app
      .get(DataSource)
      .transaction((manager) => app.get(EmailTokens).issue(manager, kind, user.id, user.email));

  it('records each event with its actor, target, IP and request id, readable with each filter', async () => {
    const admin = await adminAccount(app);
    const tag = randomUUID().slice(0, 8);
    const rid = (step: string) => `${tag}.${step}`;
    const email = uniqueEmail('audited');
    const newEmail = uniqueEmail('moved');
    const send = (step: string) => ({ 'X-Request-Id': rid(step) });

    const { id } = (
      await api(app)
        .post('/auth/register')
        .set(send('register'))
        .send({ email, password: PASSWORD })
        .expect(201)
    ).body;
    await api(app)
      .post('/auth/verify-email')
      .set(send('verify'))
      .send({ token: await mailedToken('verify', { id, email }) })
      .expect(204);
    await api(app)
      .post('/auth/login')
      .set(send('login-failed'))
      .send({ email, password: 'a wrong password, never logged' })
      .expect(401);
    const login = async (step: string, password = PASSWORD, address = email) =>
      (
        await api(app)
          .post('/auth/login')
          .set(send(step))
          .send({ email: address, password })
          .expect(200)
      ).body.token as string;
    const token = await login('login');
    const other = await login('login-2');
    await api(app)
      .patch(`/users/${id}`)
      .set(send('email'))
      .set(bearer(token))
      .send({ email: newEmail, currentPassword: PASSWORD })
      .expect(200);
    await api(app)
      .patch(`/users/${id}`)
      .set(send('password'))
      .set(bearer(token))
      .send({ password: NEW_PASSWORD, currentPassword: PASSWORD })
      .expect(200);
    const third = await login('login-3', NEW_PASSWORD, newEmail);
    const sessions = await api(app).get('/auth/sessions').set(bearer(token)).expect(200);
    const thirdSession = sessions.body.find((each: { current: boolean }) => !each.current);
    await api(app)
      .delete(`/auth/sessions/${thirdSession.id}`)
      .set(send('revoke-one'))
      .set(bearer(token))
      .expect(204);
    await api(app).post('/auth/logout').set(send('logout')).set(bearer(token)).expect(204);
    const fourth = await login('login-4', NEW_PASSWORD, newEmail);
    await api(app).post('/auth/logout-all').set(send('logout-all')).set(bearer(fourth)).expect(204);
    await api(app)
      .post('/auth/forgot-password')
      .set(send('forgot'))
      .send({ email: newEmail })
      .expect(202);
    await api(app)
      .post('/auth/reset-password')
      .set(send('reset'))
      .send({ token: await mailedToken('reset', { id, email: newEmail }), password: PASSWORD })
      .expect(204);
    const asAdmin = (step: string, body: object) =>
      api(app)
        .patch(`/admin/users/${id}`)
        .set(send(step))
        .set(bearer(admin.token))
        .send(body)
        .expect(200);
    await asAdmin('promote', { role: 'admin' });
    await asAdmin('demote', { role: 'user' });
    await asAdmin('disable', { disabled: true });
    await asAdmin('enable', { disabled: false });
    await api(app)
      .post(`/admin/users/${id}/revoke-sessions`)
      .set(send('revoke-all'))
      .set(bearer(admin.token))
      .expect(204);
    await api(app).delete(`/users/${id}`).set(send('delete')).set(bearer(admin.token)).expect(204);
    expect([other, third]).toHaveLength(2);

    const { items, total } = await auditLog(admin, { targetId: id.toUpperCase() });
    const timeline = items.reverse().map(({ action, actorId, targetId, requestId }) => ({
      action,
      actorId,
      targetId,
      requestId,
    }));
    const row = (action: string, actorId: string | null, step: string) => ({
      action,
      actorId,
      targetId: id,
      requestId: rid(step),
    });
    expect(timeline).toEqual([
      row('registered', null, 'register'),
      row('email_verified', null, 'verify'),
      row('login_failed', null, 'login-failed'),
      row('login_succeeded', id, 'login'),
      row('login_succeeded', id, 'login-2'),
      row('email_changed', id, 'email'),
      row('password_changed', id, 'password'),
      row('login_succeeded', id, 'login-3'),
      row('session_revoked', id, 'revoke-one'),
      row('logout', id, 'logout'),
      row('login_succeeded', id, 'login-4'),
      row('logout_all', id, 'logout-all'),
      row('password_reset_requested', null, 'forgot'),
      row('password_reset_completed', null, 'reset'),
      row('role_changed', admin.id, 'promote'),
      row('role_changed', admin.id, 'demote'),
      row('account_disabled', admin.id, 'disable'),
      row('account_enabled', admin.id, 'enable'),
      row('sessions_revoked', admin.id, 'revoke-all'),
      row('user_deleted', admin.id, 'delete'),
    ]);
    expect(total).toBe(timeline.length);
    for (const each of items) {
      expect(each.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(Date.parse(each.at)).not.toBeNaN();
    }
    // The email a failed login tried, never the password.
    expect(JSON.stringify(items)).not.toMatch(
      /wrong password|never logged|correct horse|brand new/,
    );
    const failed = await auditLog(admin, { targetId: id, action: 'login_failed' });
    expect(failed.items.map((each) => each.details)).toEqual([{ email, reason: 'wrong_password' }]);
    expect(
      (await auditLog(admin, { action: 'role_changed', targetId: id })).items.map(
        (each) => each.details,
      ),
    ).toEqual([
      { from: 'admin', to: 'user' },
      { from: 'user', to: 'admin' },
    ]);

    // By actor: the admin's own rows are its login and its five changes of this user (and of no one else).
    const byAdmin = await auditLog(admin, { actorId: admin.id });
    expect(byAdmin.items.map((each) => each.action).sort()).toEqual(
      [
        'login_succeeded',
        'role_changed',
        'role_changed',
        'account_disabled',
        'account_enabled',
        'sessions_revoked',
        'user_deleted',
      ].sort(),
    );
    expect(byAdmin.items.every((each) => each.actorId === admin.id)).toBe(true);

    // Paging: newest first, one at a time.
    const first = await auditLog(admin, { targetId: id, page: 1, pageSize: 1 });
    const second = await auditLog(admin, { targetId: id, page: 2, pageSize: 1 });
    expect(first).toMatchObject({ total: timeline.length, page: 1, pageSize: 1 });
    expect([first.items[0].action, second.items[0].action]).toEqual([
      'user_deleted',
      'sessions_revoked',
    ]);
  });

  it('records a login with an unknown email with no target, and a failed change with no row', async () => {
    const admin = await adminAccount(app);
    const unknown = uniqueEmail('nobody');
    await api(app).post('/auth/login').send({ email: unknown, password: PASSWORD }).expect(401);
    const failures = await auditLog(admin, { action: 'login_failed' });
    expect(failures.items.filter((each) => each.details?.email === unknown)).toEqual([
      expect.objectContaining({ actorId: null, targetId: null }),
    ]);

    const user = await account(app);
    const taken = await register(app);
    await api(app)
      .patch(`/users/${user.id}`)
      .set(bearer(user.token))
      .send({ email: taken.email, currentPassword: PASSWORD })
      .expect(409);
    await api(app)
      .patch(`/users/${user.id}`)
      .set(bearer(user.token))
      .send({ password: NEW_PASSWORD, currentPassword: 'not the current one' })
      .expect(400);
    const rows = await auditLog(admin, { targetId: user.id });
    expect(rows.items.map((each) => each.action)).toEqual(['login_succeeded', 'registered']);
  });

  it('refuses bad filters', async () => {
    const admin = await adminAccount(app);
    for (const query of [{ actorId: 'nope' }, { action: 'hacked' }, { pageSize: 500 }, { x: 1 }]) {
      await api(app).get('/admin/audit-log').query(query).set(bearer(admin.token)).expect(400);
    }
  });

  it('is append-only, and the retention purge removes only rows past AUDIT_RETENTION_DAYS, on one instance at a time', async () => {
    const db = app.get(DataSource);
    const [old] = await db.query(
      `INSERT INTO audit_log (action, at) VALUES ('logout', now() - interval '366 days') RETURNING id`,
    );
    const [recent] = await db.query(
      `INSERT INTO audit_log (action, at) VALUES ('logout', now() - interval '364 days') RETURNING id`,
    );
    await expect(
      db.query(`UPDATE audit_log SET at = now() WHERE id = $1`, [old.id]),
    ).rejects.toThrow('append-only');
    const exists = async (id: string) =>
      (await db.query(`SELECT 1 FROM audit_log WHERE id = $1`, [id])).length === 1;

    // Another instance is purging (it holds the lock): this one skips its turn.
    const other = db.createQueryRunner();
    await other.startTransaction();
    try {
      await other.query('SELECT pg_advisory_xact_lock($1)', [PURGE_LOCK]);
      await expect(app.get(AuditRetention).purge()).resolves.toBeNull();
    } finally {
      await other.rollbackTransaction();
      await other.release();
    }
    expect(await exists(old.id)).toBe(true);

    await expect(app.get(AuditRetention).purge()).resolves.toBeGreaterThanOrEqual(1);
    expect(await exists(old.id)).toBe(false);
    expect(await exists(recent.id)).toBe(true);
  });
});
