import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Response } from 'supertest';
import { createTestApp, e2eDatabaseUrl } from './support/app.js';
import { api, bearer, PASSWORD, register, uniqueEmail } from './support/factories.js';
import { Instance, prepareInstances } from './support/instance.js';
import { redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';
import { type ProxyMode, TcpProxy } from './support/tcp-proxy.js';
import { onServer, withDatabase } from './setup/test-database.js';

const redisSkipReason = await redisUnavailableReason();
if (redisSkipReason) console.warn(`Skipping the Redis failure cases: ${redisSkipReason}`);

const DEPENDENCY_TIMEOUT_MS = 1000;
/**
 * How long a request may take while a dependency fails: the timeout, plus generous slack for a
 * loaded machine (a login also hashes). The failures seen before this bound were 48 s and 63 s.
 */
const BOUND_MS = DEPENDENCY_TIMEOUT_MS + 4000;
/** How long recovery may take once the dependency is back. */
const RECOVERY_MS = 20_000;
const MODES: ProxyMode[] = ['stall', 'refuse'];

/** Polls `probe` until `done` holds; fails after `timeoutMs` with the last value seen. */
async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = RECOVERY_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Still not there after ${timeoutMs} ms`);
    await delay(100);
  }
}

/** Runs a request, and checks that it answered 503 service_unavailable with Retry-After, in time. */
async function unavailable(request: PromiseLike<Response>): Promise<Response> {
  const started = Date.now();
  const response = await request;
  expect(Date.now() - started).toBeLessThan(BOUND_MS);
  expect(response.status).toBe(503);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(response.body).toMatchObject({ status: 503, code: 'service_unavailable' });
  return response;
}

interface Case {
  /** The proxied dependency. */
  name: 'PostgreSQL' | 'Redis';
  skip?: string;
  /** Settings that put the proxy in front of that dependency. */
  env: (proxied: string) => Record<string, string>;
  target: () => string;
  /** What readiness reports while it fails. */
  checks: Record<string, string>;
  /** Register does not use Redis, so it is checked with PostgreSQL only. */
  registerNeedsIt: boolean;
}

const CASES: Case[] = [
  {
    name: 'PostgreSQL',
    // Sessions in PostgreSQL too, so that every check of a token goes through the proxy.
    env: (url) => ({ DATABASE_URL: url, SESSION_STORE: 'postgres' }),
    target: e2eDatabaseUrl,
    checks: { database: 'down', sessions: 'down' },
    registerNeedsIt: true,
  },
  {
    name: 'Redis',
    skip: redisSkipReason,
    env: (url) => ({ REDIS_URL: url, SESSION_STORE: 'redis' }),
    target: () => TEST_REDIS_URL,
    checks: { database: 'up', sessions: 'down' },
    registerNeedsIt: false,
  },
];

describe.each(CASES)('$name that fails while the app runs', (dependency) => {
  const run = dependency.skip ? it.skip : it;
  let proxy: TcpProxy;
  let app: NestExpressApplication;

  beforeAll(async () => {
    if (dependency.skip) return;
    proxy = await TcpProxy.inFrontOf(dependency.target());
    app = await createTestApp({
      env: {
        ...dependency.env(proxy.url),
        DEPENDENCY_TIMEOUT: `${DEPENDENCY_TIMEOUT_MS / 1000}s`,
        REDIS_KEY_PREFIX: `latchkey-faults-${randomBytes(4).toString('hex')}:`,
      },
      logger: false,
    });
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });
  // A failed test must not leave the next one with a broken dependency.
  afterEach(() => proxy?.set('pass'));

  run.each(MODES)(
    'when it stops answering (%s): 503 in time, not ready but live, then recovers by itself',
    async (mode) => {
      const email = uniqueEmail('faults');
      await register(app, { email });
      const login = await api(app).post('/auth/login').send({ email, password: PASSWORD });
      expect(login.status).toBe(200);
      const token: string = login.body.token;

      proxy.set(mode);

      // Fail closed: a token whose session cannot be checked is not accepted, however often asked.
      const reads = await Promise.all(
        Array.from({ length: 3 }, () => unavailable(api(app).get('/users/me').set(bearer(token)))),
      );
      expect(reads.map((read) => read.status)).toEqual([503, 503, 503]);
      await unavailable(api(app).post('/auth/login').send({ email, password: PASSWORD }));
      if (dependency.registerNeedsIt) {
        await unavailable(
          api(app).post('/auth/register').send({ email: uniqueEmail(), password: PASSWORD }),
        );
      }
      const ready = await unavailable(api(app).get('/health/ready'));
      expect(ready.body.checks).toEqual(dependency.checks);
      await api(app).get('/health/live').expect(200, { status: 'ok' });

      proxy.set('pass');

      const me = await eventually(
        () => api(app).get('/users/me').set(bearer(token)),
        (response) => response.status !== 503,
      );
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ email });
      await api(app).get('/health/ready').expect(200);
      await api(app).post('/auth/login').send({ email, password: PASSWORD }).expect(200);
    },
    60_000,
  );
});

describe.each(CASES)('$name that is not there when the process starts', (dependency) => {
  const run = dependency.skip ? it.skip : it;
  const cleanUp: (() => Promise<unknown>)[] = [];
  beforeAll(prepareInstances);
  afterEach(async () => {
    for (const step of cleanUp.splice(0).reverse()) await step();
  });

  /** A process whose dependency sits behind a proxy in `mode` from the start. */
  async function startBehind(mode: ProxyMode, target: string, env: Record<string, string> = {}) {
    const proxy = await TcpProxy.inFrontOf(target);
    cleanUp.push(() => proxy.close());
    proxy.set(mode);
    const instance = await Instance.start({
      ...dependency.env(proxy.url),
      DEPENDENCY_TIMEOUT: `${DEPENDENCY_TIMEOUT_MS / 1000}s`,
      ...env,
    });
    cleanUp.push(() => instance.stop());
    return { proxy, instance };
  }

  run.each(MODES)(
    'starts (%s), not ready and answering 503, then serves once it comes, without a restart',
    async (mode) => {
      const { proxy, instance } = await startBehind(mode, dependency.target());
      const email = uniqueEmail('late');
      if (!dependency.registerNeedsIt) {
        await expect(
          instance.request('POST', '/auth/register', { body: { email, password: PASSWORD } }),
        ).resolves.toMatchObject({ status: 201 });
      }

      await expect(instance.request('GET', '/health/live')).resolves.toEqual({
        status: 200,
        body: { status: 'ok' },
      });
      const ready = await instance.request('GET', '/health/ready');
      expect(ready).toMatchObject({ status: 503, body: { checks: dependency.checks } });
      const started = Date.now();
      const login = await fetch(`${instance.url}/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(Date.now() - started).toBeLessThan(BOUND_MS);
      expect(login.status).toBe(503);
      expect(login.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      await expect(login.json()).resolves.toMatchObject({ code: 'service_unavailable' });

      proxy.set('pass');

      await eventually(
        () => instance.request('GET', '/health/ready'),
        (response) => response.status === 200,
      );
      if (dependency.registerNeedsIt) {
        await expect(
          instance.request('POST', '/auth/register', { body: { email, password: PASSWORD } }),
        ).resolves.toMatchObject({ status: 201 });
      }
      // Ready means each dependency answered a check; on a loaded machine one call may still
      // overrun the 1 s timeout of this test (a 503), so the login is retried until it serves.
      await eventually(
        () => instance.request('POST', '/auth/login', { body: { email, password: PASSWORD } }),
        (response) => response.status === 200,
      );
      // Warned in its own words, no stack trace (raw, or inside a JSON log line).
      expect(instance.output).not.toMatch(/(\n|\\n)\s+at /);
    },
    60_000,
  );

  if (dependency.name === 'PostgreSQL') {
    it('with DB_MIGRATIONS_RUN, migrates a database that comes later, then serves it', async () => {
      const database = `latchkey_test_late_${randomBytes(4).toString('hex')}`;
      const url = withDatabase(e2eDatabaseUrl(), database);
      await onServer(e2eDatabaseUrl(), `CREATE DATABASE ${database}`);
      cleanUp.push(() =>
        onServer(e2eDatabaseUrl(), `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
      );
      const { proxy, instance } = await startBehind('refuse', url, { DB_MIGRATIONS_RUN: 'true' });
      await expect(instance.request('GET', '/health/ready')).resolves.toMatchObject({
        status: 503,
      });

      proxy.set('pass');

      await eventually(
        () => instance.request('GET', '/health/ready'),
        (response) => response.status === 200,
      );
      // The schema is there: a user can register and log in.
      const email = uniqueEmail('migrated');
      await expect(
        instance.request('POST', '/auth/register', { body: { email, password: PASSWORD } }),
      ).resolves.toMatchObject({ status: 201 });
      await expect(
        instance.request('POST', '/auth/login', { body: { email, password: PASSWORD } }),
      ).resolves.toMatchObject({ status: 200 });
    }, 60_000);
  }
});
