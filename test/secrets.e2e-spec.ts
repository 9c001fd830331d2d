import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { digestToken } from '../src/sessions/session-token.js';
import { createTestApp } from './support/app.js';
import { TestCheckpoints } from './support/checkpoints.js';
import { api, bearer, uniqueEmail } from './support/factories.js';
import { RecordingLogger } from './support/recording-logger.js';

describe('secrets', () => {
  const logger = new RecordingLogger();
  const password = 'sekrit passphrase 4 logs';
  const newPassword = 'another sekrit passphrase';
  const seen: string[] = [];
  const checkpoints = new TestCheckpoints();
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createTestApp({ logger, checkpoints });
    app.useLogger(logger);
  });
  afterAll(() => app.close());

  it('never appear in a response or a log line, through a whole session and a server error', async () => {
    const email = uniqueEmail('secret');
    const record = <T extends { text: string; headers: object }>(response: T): T => {
      seen.push(response.text, JSON.stringify(response.headers));
      return response;
    };
    const registered = record(
      await api(app).post('/auth/register').send({ email, password }).expect(201),
    );
    const loggedIn = record(
      await api(app).post('/auth/login').send({ email, password }).expect(200),
    );
    const token: string = loggedIn.body.token;
    record(
      await api(app)
        .post('/auth/login')
        .send({ email, password: `${password}x` })
        .expect(401),
    );
    record(await api(app).get('/users/me').set(bearer(token)).expect(200));
    record(
      await api(app)
        .patch(`/users/${registered.body.id}`)
        .set(bearer(token))
        .send({ password: newPassword, currentPassword: password })
        .expect(200),
    );
    record(
      await api(app)
        .patch(`/users/${registered.body.id}`)
        .set(bearer(token))
        .send({ password: 'short' })
        .expect(400),
    );
    const [{ password_hash: hash }] = await app
      .get(DataSource)
      .query('SELECT password_hash FROM users WHERE id = $1', [registered.body.id]);
    // A server error in the middle of a login that carries the password.
    checkpoints.fail('login:password-checked', registered.body.id, new Error('unexpected'));
    record(await api(app).post('/auth/login').send({ email, password: newPassword }).expect(500));
    await app.get(DataSource).destroy();
    record(await api(app).get('/users/me').set(bearer(token)).expect(503));

    expect(logger.lines.some((line) => line.includes('failed'))).toBe(true);
    const secrets = [password, newPassword, digestToken(token), hash, '$argon2'];
    for (const secret of secrets) {
      expect(seen.filter((text) => text.includes(secret))).toEqual([]);
    }
    for (const secret of [...secrets, token]) {
      expect(logger.lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
