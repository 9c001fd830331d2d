import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { argon2i, hash } from 'argon2';
import { DataSource } from 'typeorm';
import { createTestApp } from './support/app.js';
import {
  account,
  api,
  bearer,
  login,
  PASSWORD,
  register,
  uniqueEmail,
} from './support/factories.js';

/** argon2id with the default (OWASP minimum) cost; node-argon2 writes the parameters as m, p, t. */
const CURRENT_HASH = /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/;

describe('auth routes', () => {
  let app: NestExpressApplication;
  let db: DataSource;

  beforeAll(async () => {
    app = await createTestApp();
    db = app.get(DataSource);
  });
  afterAll(() => app.close());

  describe('POST /auth/register', () => {
    it('creates a user (201, Location) with a trimmed, lower-cased email and no secrets in the body', async () => {
      const email = uniqueEmail('Ada');
      const response = await api(app)
        .post('/auth/register')
        .send({ email: `  ${email.toUpperCase()} `, password: PASSWORD, name: '  Ada  ' })
        .expect(201);
      expect(response.headers.location).toBe(`/users/${response.body.id}`);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: email.toLowerCase(),
        name: 'Ada',
        emailVerified: false,
        role: 'user',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(new Date(response.body.createdAt).toISOString()).toBe(response.body.createdAt);
      const [row] = await db.query('SELECT password_hash FROM users WHERE id = $1', [
        response.body.id,
      ]);
      expect(row.password_hash).toMatch(CURRENT_HASH);
    });

    it('accepts any characters in a password and counts code points, not bytes', async () => {
      const password = '🔑🔑🔑🔑🔑🔑 spaces ok';
      const user = await register(app, { password });
      await login(app, user.email, password);
      await api(app)
        .post('/auth/register')
        .send({ email: uniqueEmail(), password: '🔑'.repeat(11) })
        .expect(400);
      await api(app)
        .post('/auth/register')
        .send({ email: uniqueEmail(), password: '🔑'.repeat(12) })
        .expect(201);
    });

    it.each([
      ['an invalid email', { email: 'not-an-email', password: PASSWORD }, 'email'],
      ['a missing email', { password: PASSWORD }, 'email'],
      ['a null email', { email: null, password: PASSWORD }, 'email'],
      [
        'an email over 254 characters',
        { email: `${'a'.repeat(250)}@example.com`, password: PASSWORD },
        'email',
      ],
      [
        'a control character in the email',
        { email: 'a\u0007b@example.com', password: PASSWORD },
        'email',
      ],
      ['a short password', { email: 'short@example.com', password: 'elevenchars' }, 'password'],
      [
        'a password over 128 characters',
        { email: 'long@example.com', password: 'x'.repeat(129) },
        'password',
      ],
      ['a numeric password', { email: 'num@example.com', password: 123456789012345 }, 'password'],
      ['an empty name', { email: 'name@example.com', password: PASSWORD, name: '   ' }, 'name'],
      [
        'a name over 100 characters',
        { email: 'name@example.com', password: PASSWORD, name: 'n'.repeat(101) },
        'name',
      ],
      [
        'a control character in the name',
        { email: 'name@example.com', password: PASSWORD, name: 'A\nB' },
        'name',
      ],
      ['a role', { email: 'role@example.com', password: PASSWORD, role: 'admin' }, 'role'],
      [
        'an id',
        { email: 'id@example.com', password: PASSWORD, id: '00000000-0000-0000-0000-000000000000' },
        'id',
      ],
      [
        'emailVerified',
        { email: 'ev@example.com', password: PASSWORD, emailVerified: true },
        'emailVerified',
      ],
      [
        'passwordHash',
        { email: 'ph@example.com', password: PASSWORD, passwordHash: 'x' },
        'passwordHash',
      ],
    ])(
      'refuses %s with 400 validation_failed naming the field, and creates nothing',
      async (_, body, field) => {
        const response = await api(app).post('/auth/register').send(body).expect(400);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.body).toMatchObject({
          status: 400,
          code: 'validation_failed',
          title: 'Bad Request',
        });
        expect(response.body.errors).toEqual(
          expect.arrayContaining([expect.objectContaining({ field })]),
        );
        const { email } = body as { email?: unknown };
        if (typeof email === 'string') {
          const rows = await db.query('SELECT 1 FROM users WHERE email = $1', [
            email.trim().toLowerCase(),
          ]);
          expect(rows).toHaveLength(0);
        }
      },
    );

    it('answers 409 email_taken for an email registered in another case', async () => {
      const { email } = await register(app);
      const response = await api(app)
        .post('/auth/register')
        .send({ email: ` ${email.toUpperCase()}`, password: PASSWORD })
        .expect(409);
      expect(response.body).toMatchObject({ code: 'email_taken', status: 409 });
    });

    it('lets exactly one of many concurrent registrations of one email succeed, the rest 409', async () => {
      const email = uniqueEmail('race');
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          api(app)
            .post('/auth/register')
            .send({ email: i % 2 ? email.toUpperCase() : email, password: PASSWORD }),
        ),
      );
      const statuses = attempts.map((response) => response.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      const rows = await db.query('SELECT 1 FROM users WHERE email = $1', [email]);
      expect(rows).toHaveLength(1);
    });
  });

  describe('POST /auth/login', () => {
    it('returns a bearer token, its expiry and the user', async () => {
      const user = await register(app);
      const response = await api(app)
        .post('/auth/login')
        .send({ email: ` ${user.email.toUpperCase()} `, password: PASSWORD })
        .expect(200);
      expect(response.body).toEqual({
        token: expect.stringMatching(/^lk_[A-Za-z0-9_-]{43}$/),
        tokenType: 'Bearer',
        expiresAt: expect.any(String),
        user: expect.objectContaining({ id: user.id, email: user.email }),
      });
      const hoursLeft = (Date.parse(response.body.expiresAt) - Date.now()) / 3_600_000;
      expect(hoursLeft).toBeGreaterThan(23);
      expect(hoursLeft).toBeLessThanOrEqual(24);
    });

    it('gives an unknown email and a wrong password the same 401', async () => {
      const user = await register(app);
      const wrongPassword = await api(app)
        .post('/auth/login')
        .send({ email: user.email, password: 'wrong password!!' });
      const unknownEmail = await api(app)
        .post('/auth/login')
        .send({ email: uniqueEmail(), password: PASSWORD });
      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(wrongPassword.body).toEqual(unknownEmail.body);
      expect(wrongPassword.body).toMatchObject({ code: 'invalid_credentials' });
    });

    it('treats a malformed email as a wrong credential (401), but refuses wrong types and sizes (400)', async () => {
      await api(app)
        .post('/auth/login')
        .send({ email: 'not-an-email', password: PASSWORD })
        .expect(401);
      await api(app).post('/auth/login').send({ email: '', password: PASSWORD }).expect(400);
      await api(app).post('/auth/login').send({ email: 'a@example.com' }).expect(400);
      await api(app)
        .post('/auth/login')
        .send({ email: 'a@example.com', password: 'x'.repeat(129) })
        .expect(400);
      await api(app).post('/auth/login').send({ email: 42, password: PASSWORD }).expect(400);
    });

    it('re-hashes a password stored with older parameters on the next successful login', async () => {
      const user = await register(app);
      const oldHash = await hash(PASSWORD, {
        type: argon2i,
        memoryCost: 19456,
        timeCost: 3,
        parallelism: 1,
      });
      await db.query('UPDATE users SET password_hash = $1 WHERE id = $2', [oldHash, user.id]);
      await login(app, user.email);
      const [row] = await db.query('SELECT password_hash FROM users WHERE id = $1', [user.id]);
      expect(row.password_hash).toMatch(CURRENT_HASH);
      await login(app, user.email);
    });
  });

  describe('POST /auth/logout', () => {
    it('ends that session at once (204), leaving the user’s other sessions alone', async () => {
      const user = await account(app);
      const other = await login(app, user.email);
      await api(app).post('/auth/logout').set(bearer(user.token)).expect(204);
      const refused = await api(app).get('/users/me').set(bearer(user.token)).expect(401);
      expect(refused.body.code).toBe('invalid_token');
      await api(app).get('/users/me').set(bearer(other)).expect(200);
      await api(app).post('/auth/logout').set(bearer(user.token)).expect(401);
    });

    it('needs a token (401)', async () => {
      const response = await api(app).post('/auth/logout').expect(401);
      expect(response.body.code).toBe('unauthenticated');
    });
  });
});
