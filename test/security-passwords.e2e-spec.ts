import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestApp } from './support/app.js';
import { account, api, bearer, PASSWORD, register, uniqueEmail } from './support/factories.js';
import { TestSmtpServer, tokenFrom } from './support/smtp.js';

const BREACHED = 'a passphrase from a breach corpus';
const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();

/**
 * A local k-anonymity range API: for each 5-digit prefix it serves fixture lines `SUFFIX:COUNT`,
 * with padding lines of count 0 (as Add-Padding asks), and records what it was asked.
 */
class RangeServer {
  readonly requests: { url: string; headers: IncomingHttpHeaders }[] = [];
  /** 'answer', 'fail' (500), or 'hang' (never answers). */
  mode: 'answer' | 'fail' | 'hang' = 'answer';
  private constructor(
    private readonly server: Server,
    private readonly breached: Map<string, number>,
  ) {}

  static async start(breached: Record<string, number>): Promise<RangeServer> {
    const counts = new Map(
      Object.entries(breached).map(([password, count]) => [sha1(password), count]),
    );
    const server = createServer();
    const range = new RangeServer(server, counts);
    server.on('request', (request, response) => {
      range.requests.push({ url: request.url ?? '', headers: request.headers });
      if (range.mode === 'hang') return;
      if (range.mode === 'fail') return void response.writeHead(500).end();
      const prefix = /^\/range\/([0-9A-F]{5})$/.exec(request.url ?? '')?.[1];
      if (!prefix) return void response.writeHead(400).end();
      const lines = [...range.breached]
        .filter(([digest]) => digest.startsWith(prefix))
        .map(([digest, count]) => `${digest.slice(5)}:${count}`);
      lines.push(`${'0'.repeat(35)}:0`, `${'F'.repeat(35)}:0`);
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end(lines.join('\r\n'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return range;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/range`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const refusedPassword = (body: { code: string; errors: { field: string; message: string }[] }) => {
  expect(body.code).toBe('validation_failed');
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].field).toBe('password');
  return body.errors[0].message;
};

describe('password blocklist', () => {
  let smtp: TestSmtpServer;
  let app: NestExpressApplication;
  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    app = await createTestApp({
      env: {
        SMTP_URL: smtp.url,
        MAIL_WORKER: 'on',
        MAIL_QUEUE: `test-${randomUUID().slice(0, 8)}`,
        MAIL_POLL_INTERVAL_MS: '500',
        PWNED_PASSWORDS_URL: '',
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await smtp.stop();
  });

  const registerWith = (password: string, email = uniqueEmail()) =>
    api(app).post('/auth/register').send({ email, password });

  it('ASVS 6.2.4 NIST 800-63B-4 3.1.1.2 API2:2023: register refuses the most common passwords, in any case', async () => {
    for (const password of ['qwerty123456', '123qweasdzxc', 'QWERTY123456', '1q2w3e4r5t6y']) {
      const message = refusedPassword((await registerWith(password).expect(400)).body);
      expect(message).toBe('is one of the most common passwords; choose another');
    }
    await registerWith(PASSWORD).expect(201);
  });

  it('ASVS 6.2.11 NIST 800-63B-4 3.1.1.2: register refuses passwords built on the service name or the email', async () => {
    expect(refusedPassword((await registerWith('my LatchKey passphrase').expect(400)).body)).toBe(
      'must not contain the name of this service',
    );
    const email = `marguerite-${randomUUID().slice(0, 4)}@example.com`;
    const local = email.split('@')[0];
    expect(
      refusedPassword(
        (await registerWith(`${local.toUpperCase()} forever!`, email).expect(400)).body,
      ),
    ).toBe('must not contain the name part of your email address');
  });

  it('ASVS 6.2.4 6.2.11: a password change is held to the same rules, against the old and the new email', async () => {
    const user = await account(app);
    const change = (body: object) =>
      api(app).patch(`/users/${user.id}`).set(bearer(user.token)).send(body);
    const currentPassword = user.password;
    expect(
      refusedPassword(
        (await change({ password: 'qwerty123456', currentPassword }).expect(400)).body,
      ),
    ).toMatch(/most common/);
    const local = user.email.split('@')[0];
    expect(
      refusedPassword(
        (await change({ password: `${local} and more words`, currentPassword }).expect(400)).body,
      ),
    ).toMatch(/email address/);
    const newEmail = `brandnewname-${randomUUID().slice(0, 4)}@example.com`;
    expect(
      refusedPassword(
        (
          await change({
            email: newEmail,
            password: `${newEmail.split('@')[0]} is my passphrase`,
            currentPassword,
          }).expect(400)
        ).body,
      ),
    ).toMatch(/email address/);
    await change({ password: 'a perfectly fine new passphrase', currentPassword }).expect(200);
  });

  it('ASVS 6.2.4 6.2.11: a reset is held to the same rules, and a refused one leaves the link usable', async () => {
    const user = await register(app);
    await api(app).post('/auth/forgot-password').send({ email: user.email }).expect(202);
    const token = tokenFrom(
      await smtp.waitFor(user.email, /Reset your password/),
      'reset-password',
    );
    const reset = (password: string) =>
      api(app).post('/auth/reset-password').send({ token, password });
    expect(refusedPassword((await reset('qwerty123456').expect(400)).body)).toMatch(/most common/);
    expect(
      refusedPassword((await reset(`${user.email.split('@')[0]} again`).expect(400)).body),
    ).toMatch(/email address/);
    await reset('a perfectly fine new passphrase').expect(204);
  });
});

describe('breached-password check against a k-anonymity range API', () => {
  let range: RangeServer;
  const apps: NestExpressApplication[] = [];
  const appWith = async (env: Record<string, string>) => {
    const app = await createTestApp({ env: { PWNED_PASSWORDS_URL: range.url, ...env } });
    apps.push(app);
    return app;
  };
  beforeAll(async () => {
    range = await RangeServer.start({ [BREACHED]: 4711, 'a password padded to zero': 0 });
  });
  afterEach(async () => {
    range.mode = 'answer';
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(() => range.stop());

  it('ASVS 6.2.12 NIST 800-63B-4 3.1.1.2: refuses a breached password on register, sending only 5 hex digits of its SHA-1', async () => {
    const app = await appWith({ PWNED_PASSWORDS_ON_ERROR: 'accept' });
    const response = await api(app)
      .post('/auth/register')
      .send({ email: uniqueEmail(), password: BREACHED })
      .expect(400);
    expect(refusedPassword(response.body)).toBe('has appeared in a data breach; choose another');
    // A count of 0 is padding, not a breach.
    await api(app)
      .post('/auth/register')
      .send({ email: uniqueEmail(), password: 'a password padded to zero' })
      .expect(201);
    await api(app)
      .post('/auth/register')
      .send({ email: uniqueEmail(), password: PASSWORD })
      .expect(201);
    expect(range.requests.length).toBeGreaterThanOrEqual(3);
    for (const { url, headers } of range.requests) {
      expect(url).toMatch(/^\/range\/[0-9A-F]{5}$/);
      expect(headers['add-padding']).toBe('true');
    }
    expect(range.requests.some(({ url }) => url.includes(sha1(BREACHED).slice(5)))).toBe(false);
  });

  it('ASVS 6.2.12: refuses a breached password on a password change too', async () => {
    const app = await appWith({ PWNED_PASSWORDS_ON_ERROR: 'accept' });
    const user = await account(app);
    const response = await api(app)
      .patch(`/users/${user.id}`)
      .set(bearer(user.token))
      .send({ password: BREACHED, currentPassword: user.password })
      .expect(400);
    expect(refusedPassword(response.body)).toMatch(/breach/);
  });

  it.each(['fail', 'hang'] as const)(
    'PWNED_PASSWORDS_ON_ERROR=accept: a range API that %ss lets the password through (fail open)',
    async (mode) => {
      const app = await appWith({
        PWNED_PASSWORDS_ON_ERROR: 'accept',
        PWNED_PASSWORDS_TIMEOUT: '1s',
      });
      range.mode = mode;
      await api(app)
        .post('/auth/register')
        .send({ email: uniqueEmail(), password: BREACHED })
        .expect(201);
    },
  );

  it.each(['fail', 'hang'] as const)(
    'PWNED_PASSWORDS_ON_ERROR=refuse: a range API that %ss answers 503 with Retry-After (fail closed)',
    async (mode) => {
      const app = await appWith({
        PWNED_PASSWORDS_ON_ERROR: 'refuse',
        PWNED_PASSWORDS_TIMEOUT: '1s',
      });
      range.mode = mode;
      const response = await api(app)
        .post('/auth/register')
        .send({ email: uniqueEmail(), password: PASSWORD })
        .expect(503);
      expect(response.body.code).toBe('service_unavailable');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    },
  );
});
