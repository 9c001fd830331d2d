import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { execFile } from 'node:child_process';
import { Agent, get as httpGet, type IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { createTestApp } from './support/app.js';
import { api, bearer, PASSWORD, uniqueEmail } from './support/factories.js';
import { Instance, prepareInstances } from './support/instance.js';
import { send } from './support/load.js';
import { redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

/** Production needs a mail server; these tests send no mail (the worker is off), so none listens. */
const PRODUCTION_MAIL = { SMTP_URL: 'smtp://127.0.0.1:9', MAIL_WORKER: 'off' };

const redisSkipReason = await redisUnavailableReason();

describe('health', () => {
  const apps: NestExpressApplication[] = [];
  const start = async (env: Record<string, string>) => {
    const app = await createTestApp({ env, logger: false });
    apps.push(app);
    return app;
  };
  afterAll(() => Promise.all(apps.map((app) => app.close())));

  it('GET /health/live answers 200 {status: "ok"} without a token', async () => {
    const app = await start({});
    const response = await api(app).get('/health/live').expect(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('GET /health/ready answers 200 when the database and the session store answer', async () => {
    const app = await start({ SESSION_STORE: 'postgres' });
    const response = await api(app).get('/health/ready').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, sessions: { status: 'up' } },
    });
  });

  it.each([
    ['memory', { database: 'down', sessions: 'up' }],
    ['postgres', { database: 'down', sessions: 'down' }],
  ])(
    'GET /health/ready with SESSION_STORE=%s answers 503 naming what is down',
    async (store, checks) => {
      const app = await start({ SESSION_STORE: store });
      await app.get(DataSource).destroy();
      const response = await api(app).get('/health/ready').expect(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 503, code: 'service_unavailable', checks });
      expect(response.body.detail).toContain('database');
    },
  );
});

describe('the app process', () => {
  const running: Instance[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const instance = await Instance.start(env);
    running.push(instance);
    return instance;
  };

  beforeAll(prepareInstances);
  afterEach(async () => {
    await Promise.all(running.splice(0).map((instance) => instance.stop()));
  });

  it('logs one JSON line per request in production, with its facts and no secrets', async () => {
    const app = await start({ NODE_ENV: 'production', LOG_LEVEL: 'trace', ...PRODUCTION_MAIL });
    const email = uniqueEmail('logs');
    await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } });
    const login = await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } });
    const token: string = login.body.token;
    const me = await fetch(`${app.url}/users/me?access_token=${token}`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': 'log-test-1' },
    });
    expect(me.status).toBe(200);
    await app.request('POST', '/auth/login', { body: { email, password: 'a wrong password' } });
    await app.stop();

    const lines = app.output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const meLine = lines.find(
      (line) => line.requestId === 'log-test-1' && line.msg === 'request completed',
    );
    expect(meLine).toMatchObject({
      req: { method: 'GET', path: '/users/me' },
      route: '/users/me',
      res: { status: 200 },
      durationMs: expect.any(Number),
      userId: login.body.user.id,
    });
    expect(app.output).not.toContain(PASSWORD);
    expect(app.output).not.toContain(token);
    expect(app.output).not.toContain('$argon2');
  }, 60_000);

  describe.each(['memory', 'postgres', 'redis'])('with SESSION_STORE=%s', (store) => {
    const skip = store === 'redis' ? redisSkipReason : undefined;
    if (skip) console.warn(`Skipping the drain test on Redis: ${skip}`);

    (skip ? it.skip : it)(
      skip ? `skipped: ${skip}` : 'drains in-flight requests on SIGTERM, then exits 0',
      async () => {
        const app = await start({
          SESSION_STORE: store,
          REDIS_URL: TEST_REDIS_URL,
          SHUTDOWN_TIMEOUT: '20s',
        });
        const email = uniqueEmail('drain');
        await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } });
        // Each login hashes, then writes a session to the store: the store must outlive the drain.
        const logins = Array.from({ length: 16 }, () =>
          app.postInFlight('/auth/login', { email, password: PASSWORD }),
        );
        await Promise.all(logins.map((login) => login.received));
        const exitCode = app.stop();
        const statuses = await Promise.all(logins.map((login) => login.response));
        expect(statuses).toEqual(Array(16).fill(200));
        await expect(exitCode).resolves.toBe(0);
        await expect(fetch(`${app.url}/health/live`)).rejects.toThrow();
      },
      60_000,
    );
  });

  it('on SIGTERM, turns readiness 503 at once, serves every connection that reached it during SHUTDOWN_DELAY, then stops', async () => {
    const app = await start({ SESSION_STORE: 'postgres', SHUTDOWN_DELAY: '5s' });
    const email = uniqueEmail('delay');
    await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } });
    const { token } = (
      await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } })
    ).body;
    // A kept-alive connection, open and idle at the signal.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const onKeptAlive = (path: string) =>
      new Promise<IncomingMessage>((resolve, reject) =>
        httpGet(`${app.url}${path}`, { agent: keepAlive, headers: bearer(token) }, (response) => {
          response.resume();
          response.once('end', () => resolve(response));
        }).once('error', reject),
      );
    expect((await onKeptAlive('/users/me')).headers.connection).toBe('keep-alive');

    // Logins on connections of their own, sent at the signal: some still in the accept queue.
    const logins = Array.from({ length: 30 }, () =>
      send(app.url, 'POST', '/auth/login', { body: { email, password: PASSWORD } }),
    );
    const exitCode = app.stop();
    for (let reply; reply?.status !== 503;) {
      reply = await send(app.url, 'GET', '/health/ready');
      if (reply.status === 503)
        expect(reply.body).toMatchObject({
          code: 'service_unavailable',
          detail: 'Not ready: shutting down.',
        });
    }
    // Still serving: on the kept-alive connection, which it then closes, and on new ones.
    const reused = await onKeptAlive('/users/me');
    expect([reused.statusCode, reused.headers.connection]).toEqual([200, 'close']);
    const fresh = await send(app.url, 'GET', '/users/me', { token });
    expect([fresh.status, fresh.headers.connection]).toEqual([200, 'close']);

    expect((await Promise.all(logins)).map((reply) => reply.status)).toEqual(Array(30).fill(200));
    await expect(exitCode).resolves.toBe(0);
    await expect(send(app.url, 'GET', '/health/live')).rejects.toThrow();
    keepAlive.destroy();
  }, 60_000);

  it('refuses to start in production without DATABASE_URL, listing every bad variable', async () => {
    const { DATABASE_URL: _unset, ...env } = process.env;
    const run = promisify(execFile)(process.execPath, ['dist/src/main.js'], {
      env: { ...env, NODE_ENV: 'production', PORT: 'eighty', SESSION_STORE: 'mongo' },
    });
    const failure = (await run.catch((error: unknown) => error)) as {
      code: number;
      stderr: string;
    };
    expect(failure.code).toBe(1);
    for (const variable of ['DATABASE_URL', 'PORT', 'SESSION_STORE']) {
      expect(failure.stderr).toContain(`- ${variable}:`);
    }
  }, 30_000);

  it('warns when production keeps sessions in memory', async () => {
    const app = await start({
      NODE_ENV: 'production',
      SESSION_STORE: 'memory',
      ...PRODUCTION_MAIL,
    });
    expect(app.output).toContain('SESSION_STORE=memory in production');
  }, 30_000);
});
