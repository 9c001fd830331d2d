import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestApp } from './support/app.js';
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

const NEW_PASSWORD = 'a brand new passphrase';

describe('user routes', () => {
  let app: NestExpressApplication;
  let db: DataSource;

  beforeAll(async () => {
    app = await createTestApp();
    db = app.get(DataSource);
  });
  afterAll(() => app.close());

  const makeAdmin = async (user: Account) => {
    await db.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
  };

  describe('GET /users/me', () => {
    it('returns the token’s user', async () => {
      const user = await account(app, { name: 'Grace' });
      const response = await api(app).get('/users/me').set(bearer(user.token)).expect(200);
      expect(response.body).toMatchObject({
        id: user.id,
        email: user.email,
        name: 'Grace',
        role: 'user',
      });
      expect(Object.keys(response.body).sort()).toEqual(
        ['createdAt', 'email', 'emailVerified', 'id', 'name', 'role', 'updatedAt'].sort(),
      );
    });

    it.each([
      ['no header', {}, 'unauthenticated', 'Bearer realm="latchkey"'],
      [
        'another scheme',
        { Authorization: 'Basic dXNlcjpwYXNz' },
        'unauthenticated',
        'Bearer realm="latchkey"',
      ],
      [
        'an empty bearer',
        { Authorization: 'Bearer ' },
        'unauthenticated',
        'Bearer realm="latchkey"',
      ],
      [
        'an unknown token',
        { Authorization: `Bearer lk_${'A'.repeat(43)}` },
        'invalid_token',
        'Bearer realm="latchkey", error="invalid_token"',
      ],
      [
        'a token of another shape',
        { Authorization: 'Bearer not-a-latchkey-token' },
        'invalid_token',
        'Bearer realm="latchkey", error="invalid_token"',
      ],
    ])('refuses %s with 401 %s', async (_, headers, code, challenge) => {
      const response = await api(app).get('/users/me').set(headers).expect(401);
      expect(response.body).toMatchObject({ status: 401, code });
      expect(response.headers['www-authenticate']).toBe(challenge);
    });

    it('accepts the scheme in any case, and refuses a token changed by one character', async () => {
      const user = await account(app);
      await api(app)
        .get('/users/me')
        .set({ Authorization: `bEaReR ${user.token}` })
        .expect(200);
      const last = user.token.at(-1) === 'A' ? 'B' : 'A';
      await api(app)
        .get('/users/me')
        .set(bearer(user.token.slice(0, -1) + last))
        .expect(401);
    });

    it('takes the token from the Authorization header only', async () => {
      const user = await account(app);
      await api(app).get(`/users/me?access_token=${user.token}`).expect(401);
    });
  });

  describe('GET /users/{id}', () => {
    it('returns your own user', async () => {
      const user = await account(app);
      const response = await api(app).get(`/users/${user.id}`).set(bearer(user.token)).expect(200);
      expect(response.body.id).toBe(user.id);
    });

    it('refuses another user’s id, existing or not, with 403', async () => {
      const [alice, bob] = [await account(app), await account(app)];
      for (const id of [bob.id, randomUUID()]) {
        const response = await api(app).get(`/users/${id}`).set(bearer(alice.token)).expect(403);
        expect(response.body.code).toBe('forbidden');
      }
    });

    it('answers a malformed id with 400 validation_failed, after authentication', async () => {
      const user = await account(app);
      const response = await api(app).get('/users/not-a-uuid').set(bearer(user.token)).expect(400);
      expect(response.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'id' }] });
      await api(app).get('/users/not-a-uuid').expect(401);
    });

    it('lets an admin read anyone, and answers 404 for no such user', async () => {
      const [admin, other] = [await account(app), await account(app)];
      await makeAdmin(admin);
      await api(app).get(`/users/${other.id}`).set(bearer(admin.token)).expect(200);
      const response = await api(app)
        .get(`/users/${randomUUID()}`)
        .set(bearer(admin.token))
        .expect(404);
      expect(response.body.code).toBe('not_found');
    });
  });

  describe('PATCH /users/{id}', () => {
    it('changes the name without the current password, and null clears it', async () => {
      const user = await account(app, { name: 'Old' });
      const renamed = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ name: '  New  ', currentPassword: 'ignored entirely' })
        .expect(200);
      expect(renamed.body.name).toBe('New');
      const cleared = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ name: null })
        .expect(200);
      expect(cleared.body.name).toBeNull();
    });

    it('changes the email with the current password, normalizes it, and marks it unverified', async () => {
      const user = await account(app);
      await db.query('UPDATE users SET email_verified = true WHERE id = $1', [user.id]);
      const email = uniqueEmail('Moved');
      const response = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ email: ` ${email.toUpperCase()} `, currentPassword: PASSWORD })
        .expect(200);
      expect(response.body).toMatchObject({ email: email.toLowerCase(), emailVerified: false });
      await login(app, email);
    });

    it('treats the same email in another case as no change (no password needed, still verified)', async () => {
      const user = await account(app);
      await db.query('UPDATE users SET email_verified = true WHERE id = $1', [user.id]);
      const response = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ email: user.email.toUpperCase() })
        .expect(200);
      expect(response.body).toMatchObject({ email: user.email, emailVerified: true });
    });

    it.each([
      ['missing', {}],
      ['wrong', { currentPassword: 'not my password' }],
    ])(
      'refuses an email or password change with the current password %s (400)',
      async (_, proof) => {
        const user = await account(app);
        for (const change of [{ email: uniqueEmail() }, { password: NEW_PASSWORD }]) {
          const response = await api(app)
            .patch(`/users/${user.id}`)
            .set(bearer(user.token))
            .send({ ...change, ...proof })
            .expect(400);
          expect(response.body).toMatchObject({
            code: 'invalid_current_password',
            errors: [{ field: 'currentPassword' }],
          });
        }
        await login(app, user.email);
      },
    );

    it('checks the current password before the email’s uniqueness, then answers 409 email_taken', async () => {
      const [user, other] = [await account(app), await account(app)];
      const unproven = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ email: other.email });
      expect(unproven.status).toBe(400);
      expect(unproven.body.code).toBe('invalid_current_password');
      const taken = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ email: other.email.toUpperCase(), currentPassword: PASSWORD })
        .expect(409);
      expect(taken.body.code).toBe('email_taken');
    });

    it('changes the password: this session stays, every other one ends, the new password logs in', async () => {
      const user = await account(app);
      const otherSession = await login(app, user.email);
      await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send({ password: NEW_PASSWORD, currentPassword: PASSWORD })
        .expect(200);
      await api(app).get('/users/me').set(bearer(user.token)).expect(200);
      await api(app).get('/users/me').set(bearer(otherSession)).expect(401);
      await api(app)
        .post('/auth/login')
        .send({ email: user.email, password: PASSWORD })
        .expect(401);
      await login(app, user.email, NEW_PASSWORD);
    });

    it.each([
      ['a short password', { password: 'short', currentPassword: PASSWORD }, 'password'],
      ['an invalid email', { email: 'nope', currentPassword: PASSWORD }, 'email'],
      ['a null email', { email: null, currentPassword: PASSWORD }, 'email'],
      ['a role', { role: 'admin' }, 'role'],
      ['emailVerified', { emailVerified: true }, 'emailVerified'],
      ['a disabled flag', { disabled: false }, 'disabled'],
    ])('refuses %s with 400 validation_failed and changes nothing', async (_, body, field) => {
      const user = await account(app);
      const response = await api(app)
        .patch(`/users/${user.id}`)
        .set(bearer(user.token))
        .send(body)
        .expect(400);
      expect(response.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
      const me = await api(app).get('/users/me').set(bearer(user.token)).expect(200);
      expect(me.body).toMatchObject({ email: user.email, role: 'user', emailVerified: false });
    });

    it('refuses another user’s id, existing or not, with 403 before validating the body', async () => {
      const [alice, bob] = [await account(app), await account(app)];
      for (const id of [bob.id, randomUUID()]) {
        const response = await api(app)
          .patch(`/users/${id}`)
          .set(bearer(alice.token))
          .send({ name: 'Mallory', role: 'admin' })
          .expect(403);
        expect(response.body.code).toBe('forbidden');
      }
      const bobNow = await api(app).get('/users/me').set(bearer(bob.token)).expect(200);
      expect(bobNow.body.name).toBeNull();
    });

    it('needs a token before anything else (401)', async () => {
      await api(app).patch('/users/not-a-uuid').send({ role: 'admin' }).expect(401);
    });

    it('lets an admin change someone else without their current password, ending all their sessions', async () => {
      const [admin, target] = [await account(app), await account(app)];
      await makeAdmin(admin);
      await api(app)
        .patch(`/users/${target.id}`)
        .set(bearer(admin.token))
        .send({ password: NEW_PASSWORD })
        .expect(200);
      await api(app).get('/users/me').set(bearer(target.token)).expect(401);
      await login(app, target.email, NEW_PASSWORD);
      await api(app)
        .patch(`/users/${randomUUID()}`)
        .set(bearer(admin.token))
        .send({ name: 'x' })
        .expect(404);
    });
  });

  describe('DELETE /users/{id}', () => {
    it('deletes the account (204), ends every session, and frees the email', async () => {
      const user = await account(app);
      const otherSession = await login(app, user.email);
      await api(app).delete(`/users/${user.id}`).set(bearer(user.token)).expect(204);
      for (const token of [user.token, otherSession]) {
        const response = await api(app).get('/users/me').set(bearer(token)).expect(401);
        expect(response.body.code).toBe('invalid_token');
      }
      await api(app)
        .post('/auth/login')
        .send({ email: user.email, password: PASSWORD })
        .expect(401);
      await register(app, { email: user.email });
    });

    it('refuses another user’s id, existing or not, with 403 and deletes nothing', async () => {
      const [alice, bob] = [await account(app), await account(app)];
      for (const id of [bob.id, randomUUID()]) {
        await api(app).delete(`/users/${id}`).set(bearer(alice.token)).expect(403);
      }
      await api(app).get('/users/me').set(bearer(bob.token)).expect(200);
    });

    it('needs a token (401) and a well-formed id (400)', async () => {
      const user = await account(app);
      await api(app).delete(`/users/${user.id}`).expect(401);
      await api(app).delete('/users/123').set(bearer(user.token)).expect(400);
    });

    it('lets an admin delete someone else', async () => {
      const [admin, target] = [await account(app), await account(app)];
      await makeAdmin(admin);
      await api(app).delete(`/users/${target.id}`).set(bearer(admin.token)).expect(204);
      await api(app).get('/users/me').set(bearer(target.token)).expect(401);
    });
  });
});
