import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { Instance, prepareInstances } from './support/instance.js';
import { eventually, TestSmtpServer, tokenFrom } from './support/smtp.js';
import { uniqueEmail } from './support/factories.js';
import { ALL_OPERATIONS } from './support/matrix.js';
import { fill } from './support/security.js';

const secret = (label: string) => `${label} ${randomBytes(8).toString('hex')}`;

/** Request log lines: pino's JSON, one per request, as the real process writes them. */
const requestLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { requestId?: string; req?: unknown });

describe('log hygiene, in the logs of a real process', () => {
  const BASE_URL = 'https://app.example.test';
  let smtp: TestSmtpServer;
  let instance: Instance;
  beforeAll(async () => {
    await prepareInstances();
    smtp = await TestSmtpServer.start();
    instance = await Instance.start({
      LOG_LEVEL: 'info',
      SMTP_URL: smtp.url,
      MAIL_WORKER: 'on',
      MAIL_QUEUE: `test-${randomUUID().slice(0, 8)}`,
      MAIL_POLL_INTERVAL_MS: '500',
      APP_BASE_URL: BASE_URL,
    });
  }, 60_000);
  afterAll(async () => {
    await instance?.stop();
    await smtp?.stop();
  });

  const send = async (
    method: string,
    path: string,
    { token, body, requestId }: { token?: string; body?: unknown; requestId: string },
  ) => {
    const response = await fetch(`${instance.url}${path}`, {
      method: method.toUpperCase(),
      headers: {
        'X-Request-Id': requestId,
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return {
      status: response.status,
      body:
        text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };

  it('ASVS 16.2.5 16.2.1 API8:2023: every route logs its request id, never Authorization, passwords, tokens or the links of messages', async () => {
    const secrets: string[] = [];
    const requestIds: string[] = [];
    const call = async (
      method: string,
      path: string,
      options: { token?: string; body?: unknown } = {},
    ) => {
      const requestId = `log-${randomUUID()}`;
      requestIds.push(requestId);
      return send(method, path, { ...options, requestId });
    };

    // A real session, mails with real links, and each secret they carry.
    const email = uniqueEmail('logs');
    const first = secret('first passphrase');
    secrets.push(first);
    const registered = await call('post', '/auth/register', { body: { email, password: first } });
    expect(registered.status).toBe(201);
    const login = await call('post', '/auth/login', { body: { email, password: first } });
    const token = login.body.token as string;
    secrets.push(token);
    const verifyMail = await smtp.waitFor(email, /Confirm your email/);
    const verifyToken = tokenFrom(verifyMail, 'verify-email');
    secrets.push(verifyToken, `${BASE_URL}/verify-email?token=${verifyToken}`);
    expect(
      (await call('post', '/auth/verify-email', { body: { token: verifyToken } })).status,
    ).toBe(204);
    await call('post', '/auth/forgot-password', { body: { email } });
    const resetToken = tokenFrom(
      await smtp.waitFor(email, /Reset your password/),
      'reset-password',
    );
    const second = secret('second passphrase');
    secrets.push(resetToken, `${BASE_URL}/reset-password?token=${resetToken}`, second);
    expect(
      (
        await call('post', '/auth/reset-password', {
          body: { token: resetToken, password: second },
        })
      ).status,
    ).toBe(204);
    const again = await call('post', '/auth/login', { body: { email, password: second } });
    const token2 = again.body.token as string;
    secrets.push(token2);
    const third = secret('third passphrase');
    secrets.push(third);
    expect(
      (
        await call('patch', `/users/${registered.body.id}`, {
          token: token2,
          body: { password: third, currentPassword: second },
        })
      ).status,
    ).toBe(200);
    await smtp.waitFor(email, /password was changed/i, 2);

    // Then every documented operation, with a live token and secrets in every body field it might log.
    const throwaway = await call('post', '/auth/register', {
      body: { email: uniqueEmail('logs'), password: secret('x passphrase') },
    });
    for (const { method, path, operation } of ALL_OPERATIONS) {
      const planted = secret('planted');
      secrets.push(planted);
      await call(method, fill(path, throwaway.body.id ?? randomUUID()), {
        token: token2,
        body: operation.requestBody
          ? { password: planted, currentPassword: planted, token: planted, email }
          : undefined,
      });
    }
    await call('post', '/auth/logout', { token: token2 });

    // Every request has its line, under its id.
    await eventually(
      () => {
        const logged = new Set(requestLines(instance.output).map((line) => line.requestId));
        return requestIds.every((id) => logged.has(id)) || undefined;
      },
      { what: 'every request in the log' },
    );
    const lines = instance.output.split('\n');
    expect(lines.filter((line) => /Bearer |authorization":"(?!\[Redacted\])/i.test(line))).toEqual(
      [],
    );
    for (const value of secrets) {
      expect({ value, lines: lines.filter((line) => line.includes(value)) }).toEqual({
        value,
        lines: [],
      });
    }
    expect(lines.filter((line) => line.includes('token='))).toEqual([]);
  });
});
