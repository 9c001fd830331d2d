import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { DataSource } from 'typeorm';
import { digestEmailToken } from '../src/mail/email-tokens.js';
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
import { RecordingLogger } from './support/recording-logger.js';
import { eventually, TestSmtpServer, tokenFrom } from './support/smtp.js';
import { TcpProxy } from './support/tcp-proxy.js';

const BASE_URL = 'https://app.example.test';
const NEW_PASSWORD = 'a brand new passphrase';
const VERIFY = /Confirm your email/;
const RESET = /Reset your password/;

/**
 * Settings of an app whose worker sends at once through `smtpUrl` (none: .eml files), on a queue
 * of its own. Every mail setting is given: ConfigModule copies one app's settings into process.env,
 * where the next app of this file would find them.
 */
const mailEnv = (smtpUrl = ''): Record<string, string> => ({
  SMTP_URL: smtpUrl,
  REQUIRE_VERIFIED_EMAIL: 'false',
  REGISTRATION_MODE: 'standard',
  APP_BASE_URL: BASE_URL,
  MAIL_WORKER: 'on',
  MAIL_QUEUE: `test-${randomUUID().slice(0, 8)}`,
  MAIL_POLL_INTERVAL_MS: '500',
  MAIL_RETRY_DELAY: '1',
});

const invalidToken = { status: 400, code: 'invalid_or_expired_token' };

describe('email ownership and recovery, through a real SMTP server', () => {
  const clock = new ManualClock(new Date());
  const checkpoints = new TestCheckpoints();
  let smtp: TestSmtpServer;
  let app: NestExpressApplication;
  let env: Record<string, string>;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    env = mailEnv(smtp.url);
    app = await createTestApp({ env, clock, checkpoints });
  });
  afterEach(() => checkpoints.releaseAll());
  afterAll(async () => {
    await app?.close();
    await smtp?.stop();
  });

  const verify = (token: string) => api(app).post('/auth/verify-email').send({ token });
  const me = (token: string) => api(app).get('/users/me').set(bearer(token));

  it('registration sends a verification link that verifies the email once', async () => {
    const user = await account(app);
    const message = await smtp.waitFor(user.email, VERIFY);
    expect(message.text).toContain(`${BASE_URL}/verify-email?token=`);
    expect(message.html).toContain('<a href=');
    const token = tokenFrom(message, 'verify-email');
    expect(token.length).toBeGreaterThanOrEqual(43);

    expect((await me(user.token).expect(200)).body.emailVerified).toBe(false);
    await verify(token).expect(204);
    expect((await me(user.token).expect(200)).body.emailVerified).toBe(true);
    // Used once: a second use is refused.
    expect((await verify(token).expect(400)).body).toMatchObject(invalidToken);
  });

  it('refuses an expired link', async () => {
    const user = await register(app);
    const token = tokenFrom(await smtp.waitFor(user.email, VERIFY), 'verify-email');
    clock.advance(24 * 3600 + 1);
    expect((await verify(token).expect(400)).body).toMatchObject(invalidToken);
  });

  it('resend sends a new link and voids the older one', async () => {
    const user = await account(app);
    const first = tokenFrom(await smtp.waitFor(user.email, VERIFY), 'verify-email');
    const resent = await api(app).post('/auth/verify-email/resend').set(bearer(user.token));
    expect(resent.status).toBe(202);
    expect(resent.body).toEqual({ status: 'accepted' });
    const second = tokenFrom(await smtp.waitFor(user.email, VERIFY, 2), 'verify-email');
    expect(second).not.toBe(first);
    expect((await verify(first).expect(400)).body).toMatchObject(invalidToken);
    await verify(second).expect(204);
  });

  it('refuses tokens that were never issued, without a lookup', async () => {
    for (const token of ['nope', `lkv_${'A'.repeat(43)}`, `lkr_${'A'.repeat(43)}`]) {
      expect((await verify(token).expect(400)).body).toMatchObject(invalidToken);
    }
  });

  it('forgot-password answers alike, in about the same time, for known and unknown emails; only the known one gets mail', async () => {
    const user = await register(app);
    const unknown = uniqueEmail('nobody');
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await api(app).post('/auth/forgot-password').send({ email });
      return { response, ms: performance.now() - started };
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
    await timed(uniqueEmail('warm-up'));
    // Interleaved rounds, so machine load hits both sides alike; medians, so one stall does not count.
    const known: number[] = [];
    const other: number[] = [];
    for (let round = 0; round < 9; round++) {
      const a = await timed(user.email);
      const b = await timed(unknown);
      expect(a.response.status).toBe(202);
      expect(b.response.status).toBe(202);
      expect(a.response.body).toEqual({ status: 'accepted' });
      expect(b.response.body).toEqual(a.response.body);
      known.push(a.ms);
      other.push(b.ms);
    }
    // Hashing or sending on the request path would make the known side many times slower.
    expect(median(known)).toBeLessThan(3 * median(other));
    expect(median(other)).toBeLessThan(3 * median(known));

    const message = await smtp.waitFor(user.email, RESET);
    expect(message.text).toContain(`${BASE_URL}/reset-password?token=`);
    expect(smtp.to(unknown)).toEqual([]);
  });

  it('a reset sets the password, ends every session, voids other links and sends a notice', async () => {
    const user = await account(app);
    const otherSession = await login(app, user.email);
    await api(app).post('/auth/forgot-password').send({ email: user.email }).expect(202);
    const older = tokenFrom(await smtp.waitFor(user.email, RESET), 'reset-password');
    await api(app).post('/auth/forgot-password').send({ email: user.email }).expect(202);
    const newer = tokenFrom(await smtp.waitFor(user.email, RESET, 2), 'reset-password');

    const reset = (token: string, password = NEW_PASSWORD) =>
      api(app).post('/auth/reset-password').send({ token, password });
    // A newer link voids the older one.
    expect((await reset(older).expect(400)).body).toMatchObject(invalidToken);
    // The password rules apply.
    expect((await reset(newer, 'short').expect(400)).body.code).toBe('validation_failed');
    await reset(newer).expect(204);

    await me(user.token).expect(401);
    await me(otherSession).expect(401);
    await api(app).post('/auth/login').send({ email: user.email, password: PASSWORD }).expect(401);
    await login(app, user.email, NEW_PASSWORD);
    expect((await reset(newer).expect(400)).body).toMatchObject(invalidToken);
    await smtp.waitFor(user.email, /Your password was changed/);
  });

  it('an email change sends a verification to the new address and a notice to the old one', async () => {
    const user = await account(app);
    const oldToken = tokenFrom(await smtp.waitFor(user.email, VERIFY), 'verify-email');
    const newEmail = uniqueEmail('moved');
    const updated = await api(app)
      .patch(`/users/${user.id}`)
      .set(bearer(user.token))
      .send({ email: newEmail, currentPassword: PASSWORD })
      .expect(200);
    expect(updated.body).toMatchObject({ email: newEmail, emailVerified: false });

    const notice = await smtp.waitFor(user.email, /Your email address was changed/);
    expect(notice.text).toContain(newEmail);
    expect(notice.text).not.toContain('token=');
    const newToken = tokenFrom(await smtp.waitFor(newEmail, VERIFY), 'verify-email');
    // The link sent to the old address proves nothing about the new one.
    expect((await verify(oldToken).expect(400)).body).toMatchObject(invalidToken);
    await verify(newToken).expect(204);
    expect((await me(user.token).expect(200)).body).toMatchObject({
      email: newEmail,
      emailVerified: true,
    });
  });

  it('of two concurrent uses of one token, exactly one succeeds', async () => {
    const user = await register(app);
    const token = tokenFrom(await smtp.waitFor(user.email, VERIFY), 'verify-email');
    const hold = checkpoints.hold('token:consuming', digestEmailToken(token));
    const uses = [verify(token).then((r) => r), verify(token).then((r) => r)];
    await hold.waiting(2);
    hold.release();
    const statuses = (await Promise.all(uses)).map((response) => response.status).sort();
    expect(statuses).toEqual([204, 400]);
  });

  it('stores tokens only as digests, and no table holds a plaintext one', async () => {
    const user = await register(app);
    const token = tokenFrom(await smtp.waitFor(user.email, VERIFY), 'verify-email');
    const db = app.get(DataSource);
    const rows = (await db.query(`SELECT digest FROM email_tokens WHERE user_id = $1`, [
      user.id,
    ])) as { digest: string }[];
    expect(rows).toEqual([{ digest: digestEmailToken(token) }]);
    const jobs = (await db.query(`SELECT data::text AS data FROM pgboss.job WHERE name = $1`, [
      env.MAIL_QUEUE,
    ])) as { data: string }[];
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.filter((job) => /lk[vr]_/.test(job.data))).toEqual([]);
  });
});

describe('REQUIRE_VERIFIED_EMAIL=true with REGISTRATION_MODE=enumeration-safe', () => {
  let smtp: TestSmtpServer;
  let app: NestExpressApplication;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    app = await createTestApp({
      env: {
        ...mailEnv(smtp.url),
        REQUIRE_VERIFIED_EMAIL: 'true',
        REGISTRATION_MODE: 'enumeration-safe',
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.stop();
  });

  it('answers a new and a taken email alike, and tells the owner of the taken one', async () => {
    const email = uniqueEmail('safe');
    const registerAs = (password: string) =>
      api(app).post('/auth/register').send({ email, password });
    const fresh = await registerAs(PASSWORD);
    const taken = await registerAs('someone else entirely');
    expect(fresh.status).toBe(202);
    expect(taken.status).toBe(202);
    expect(fresh.body).toEqual({ status: 'pending_verification' });
    expect(taken.body).toEqual(fresh.body);
    expect(taken.headers.location).toBeUndefined();

    await smtp.waitFor(email, /Someone tried to register/);
    const token = tokenFrom(await smtp.waitFor(email, VERIFY), 'verify-email');

    // Unverified: refused, but only once the password checked out.
    const wrong = await api(app).post('/auth/login').send({ email, password: 'wrong password!!' });
    expect(wrong.status).toBe(401);
    const unverified = await api(app).post('/auth/login').send({ email, password: PASSWORD });
    expect(unverified.status).toBe(403);
    expect(unverified.body.code).toBe('email_not_verified');

    await api(app).post('/auth/verify-email').send({ token }).expect(204);
    await login(app, email);
    // The second registration changed nothing: its password is not the account's.
    await api(app)
      .post('/auth/login')
      .send({ email, password: 'someone else entirely' })
      .expect(401);
  });
});

describe('mail server down', () => {
  let smtp: TestSmtpServer;
  let proxy: TcpProxy;
  let app: NestExpressApplication;
  let env: Record<string, string>;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    proxy = await TcpProxy.inFrontOf(smtp.url);
    env = mailEnv(`smtp://127.0.0.1:${proxy.port}`);
    app = await createTestApp({ env });
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await smtp?.stop();
  });

  it('requests still succeed; the messages arrive once it is back, none twice', async () => {
    proxy.set('refuse');
    const first = await register(app);
    const second = await register(app);
    await api(app).post('/auth/forgot-password').send({ email: first.email }).expect(202);

    const db = app.get(DataSource);
    const jobs = () =>
      db.query(`SELECT state, retry_count FROM pgboss.job WHERE name = $1`, [
        env.MAIL_QUEUE,
      ]) as Promise<{ state: string; retry_count: number }[]>;
    // Wait until a send has failed and been scheduled again.
    await eventually(
      async () => ((await jobs()).some((job) => job.retry_count > 0) ? true : undefined),
      {
        what: 'a failed send',
      },
    );
    expect(smtp.messages).toEqual([]);

    proxy.set('pass');
    await smtp.waitFor(first.email, VERIFY);
    await smtp.waitFor(second.email, VERIFY);
    await smtp.waitFor(first.email, RESET);
    await eventually(
      async () => ((await jobs()).every((job) => job.state === 'completed') ? true : undefined),
      { what: 'every job completed' },
    );
    expect(smtp.to(first.email)).toHaveLength(2);
    expect(smtp.to(second.email)).toHaveLength(1);
  });
});

describe('development file transport (no SMTP_URL)', () => {
  let dir: string;
  let app: NestExpressApplication;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-mail-'));
    app = await createTestApp({ env: { ...mailEnv(), MAIL_DIR: dir } });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each message as an .eml file whose link works', async () => {
    const user = await register(app);
    const file = await eventually(
      async () => (await readdir(dir)).find((name) => name.endsWith('.eml')),
      {
        what: 'an .eml file',
      },
    );
    const parsed = await simpleParser(await readFile(join(dir, file)));
    expect(parsed.subject).toMatch(VERIFY);
    expect((parsed.to as { text: string }).text).toBe(user.email);
    const token = tokenFrom(
      { to: user.email, subject: parsed.subject ?? '', text: parsed.text ?? '', html: '', parsed },
      'verify-email',
    );
    await api(app).post('/auth/verify-email').send({ token }).expect(204);
  });
});

describe('a mail server that offers STARTTLS with a certificate nobody trusts', () => {
  let smtp: TestSmtpServer;
  let app: NestExpressApplication;
  let env: Record<string, string>;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start({ starttls: true });
    env = mailEnv(smtp.url);
    app = await createTestApp({ env });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.stop();
  });

  it('gets no message: a failed upgrade is never a fall-back to plain text', async () => {
    await register(app);
    const db = app.get(DataSource);
    await eventually(
      async () => {
        const jobs = (await db.query(`SELECT retry_count FROM pgboss.job WHERE name = $1`, [
          env.MAIL_QUEUE,
        ])) as { retry_count: number }[];
        return jobs.some((job) => job.retry_count > 0) ? true : undefined;
      },
      { what: 'a failed send' },
    );
    expect(smtp.messages).toEqual([]);
  });
});

describe('MAIL_WORKER=off on one instance, on on another', () => {
  let idleSmtp: TestSmtpServer;
  let sendingSmtp: TestSmtpServer;
  let idle: NestExpressApplication;
  let sending: NestExpressApplication | undefined;

  beforeAll(async () => {
    idleSmtp = await TestSmtpServer.start();
    sendingSmtp = await TestSmtpServer.start();
  });
  afterAll(async () => {
    await sending?.close();
    await idle?.close();
    await idleSmtp?.stop();
    await sendingSmtp?.stop();
  });

  it('the instance without a worker only enqueues; the one with a worker sends it all', async () => {
    const queue = `test-${randomUUID().slice(0, 8)}`;
    idle = await createTestApp({
      env: { ...mailEnv(idleSmtp.url), MAIL_WORKER: 'off', MAIL_QUEUE: queue },
    });
    const users = [await register(idle), await register(idle)];
    sending = await createTestApp({ env: { ...mailEnv(sendingSmtp.url), MAIL_QUEUE: queue } });
    for (const user of users) await sendingSmtp.waitFor(user.email, VERIFY);

    const db = idle.get(DataSource);
    await eventually(
      async () => {
        const jobs = (await db.query(`SELECT state FROM pgboss.job WHERE name = $1`, [queue])) as {
          state: string;
        }[];
        return jobs.length === 2 && jobs.every((job) => job.state === 'completed')
          ? true
          : undefined;
      },
      { what: 'both jobs completed' },
    );
    // Every job went once, and all through the instance with the worker.
    expect(idleSmtp.messages).toEqual([]);
    expect(sendingSmtp.messages).toHaveLength(2);
  });
});

describe('logs', () => {
  const logger = new RecordingLogger();
  let smtp: TestSmtpServer;
  let app: NestExpressApplication;
  let env: Record<string, string>;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    env = { ...mailEnv(smtp.url), LOG_LEVEL: 'debug' };
    app = await createTestApp({ env, logger });
    app.useLogger(logger);
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.stop();
  });

  it('never show a token or a link from a message, through every kind of message', async () => {
    const user = await account(app);
    const verifyToken = tokenFrom(await smtp.waitFor(user.email, VERIFY), 'verify-email');
    await api(app).post('/auth/verify-email').send({ token: verifyToken }).expect(204);
    await api(app).post('/auth/forgot-password').send({ email: user.email }).expect(202);
    const resetToken = tokenFrom(await smtp.waitFor(user.email, RESET), 'reset-password');
    await api(app)
      .post('/auth/reset-password')
      .send({ token: resetToken, password: NEW_PASSWORD })
      .expect(204);
    await smtp.waitFor(user.email, /Your password was changed/);
    const db = app.get(DataSource);
    await eventually(
      async () => {
        const jobs = (await db.query(`SELECT state FROM pgboss.job WHERE name = $1`, [
          env.MAIL_QUEUE,
        ])) as { state: string }[];
        return jobs.length === 3 && jobs.every((job) => job.state === 'completed')
          ? true
          : undefined;
      },
      { what: 'every message sent and recorded' },
    );

    expect(logger.lines.filter((line) => line.includes('Sent '))).toHaveLength(3);
    for (const secret of [verifyToken, resetToken, 'token=', 'lkv_', 'lkr_']) {
      expect(logger.lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
