import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Response } from 'supertest';
import { createTestApp } from './support/app.js';
import { account, api, bearer, PASSWORD, register, uniqueEmail } from './support/factories.js';
import { ManualClock } from './support/manual-clock.js';
import {
  type RedisClusterHandle,
  redisClusterUnavailableReason,
  startRedisCluster,
} from './support/redis-cluster.js';
import { deleteKeys, redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';
import { RecordingLogger } from './support/recording-logger.js';
import { freshIp, freshIpv6Prefix } from './support/security.js';
import { TcpProxy } from './support/tcp-proxy.js';

/**
 * Rate limits and per-account login throttling, on (test apps default to RATE_LIMITS=off, see
 * .env.test). Every request names its client address in X-Forwarded-For (TRUST_PROXY=true), each
 * test its own, so no test shares a bucket with another.
 */
const LIMITS_ON = { RATE_LIMITS: 'on', TRUST_PROXY: 'true' };

const expectRateLimited = (response: Response, maxSeconds: number) => {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status: 429, code: 'rate_limited' });
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  return retryAfter;
};

const loginFrom = (
  app: NestExpressApplication,
  ip: string,
  email: string,
  password = 'wrong password!',
) => api(app).post('/auth/login').set('X-Forwarded-For', ip).send({ email, password });

describe('rate limits per client IP (memory store)', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp({ env: LIMITS_ON });
  });
  afterAll(() => app.close());

  it('API4:2023 API2:2023 ASVS 6.3.1 NIST 800-63B-4 3.2.2: login takes 10 attempts a minute per IP, then 429 rate_limited with Retry-After', async () => {
    const ip = freshIp();
    for (let attempt = 0; attempt < 10; attempt++) {
      await loginFrom(app, ip, uniqueEmail('stuffing')).expect(401);
    }
    expectRateLimited(await loginFrom(app, ip, uniqueEmail('stuffing')), 60);
    // The right password does not get through either: the limit is on attempts.
    const victim = await register(app);
    expectRateLimited(await loginFrom(app, ip, victim.email, victim.password), 60);
    await loginFrom(app, freshIp(), victim.email, victim.password).expect(200);
  });

  it('API4:2023 ASVS 2.4.1: register takes 10 a hour per IP', async () => {
    const ip = freshIp();
    const registerFrom = () =>
      api(app)
        .post('/auth/register')
        .set('X-Forwarded-For', ip)
        .send({ email: uniqueEmail('flood'), password: PASSWORD });
    for (let attempt = 0; attempt < 10; attempt++) await registerFrom().expect(201);
    expectRateLimited(await registerFrom(), 3600);
  });

  it('API4:2023 API6:2023 ASVS 2.4.1: forgot-password takes 3 an hour per target email (from any IP) and 10 per IP', async () => {
    const email = uniqueEmail('target');
    const forgot = (ip: string, to: string) =>
      api(app).post('/auth/forgot-password').set('X-Forwarded-For', ip).send({ email: to });
    for (let attempt = 0; attempt < 3; attempt++) await forgot(freshIp(), email).expect(202);
    expectRateLimited(await forgot(freshIp(), email), 3600);
    // The same address in another case and with spaces is the same target.
    expectRateLimited(await forgot(freshIp(), ` ${email.toUpperCase()}`), 3600);

    const ip = freshIp();
    for (let attempt = 0; attempt < 10; attempt++) await forgot(ip, uniqueEmail()).expect(202);
    expectRateLimited(await forgot(ip, uniqueEmail()), 3600);
  });

  it('API4:2023 API6:2023 ASVS 2.4.1: verify-email/resend takes 3 an hour per account address and 10 per IP', async () => {
    const user = await account(app);
    const resend = (ip: string, token: string) =>
      api(app).post('/auth/verify-email/resend').set('X-Forwarded-For', ip).set(bearer(token));
    for (let attempt = 0; attempt < 3; attempt++) await resend(freshIp(), user.token).expect(202);
    expectRateLimited(await resend(freshIp(), user.token), 3600);

    const ip = freshIp();
    const others = await Promise.all([1, 2, 3, 4].map(() => account(app)));
    let answered = 0;
    for (const other of others) {
      for (let attempt = 0; attempt < 3 && answered < 10; attempt++, answered++) {
        await resend(ip, other.token).expect(202);
      }
    }
    expectRateLimited(await resend(ip, others[3].token), 3600);
  });

  it('API4:2023 ASVS 2.4.1: every other route takes 300 a minute per IP; the health probes are exempt', async () => {
    const ip = freshIp();
    for (let request = 0; request < 300; request++) {
      await api(app).get('/users/me').set('X-Forwarded-For', ip).expect(401);
    }
    expectRateLimited(await api(app).get('/users/me').set('X-Forwarded-For', ip), 60);
    // Before authentication: a valid token from that address waits too.
    const user = await account(app);
    expectRateLimited(
      await api(app).get('/users/me').set('X-Forwarded-For', ip).set(bearer(user.token)),
      60,
    );
    await api(app).get('/health/live').set('X-Forwarded-For', ip).expect(200);
    await api(app)
      .get('/users/me')
      .set('X-Forwarded-For', freshIp())
      .set(bearer(user.token))
      .expect(200);
  });

  it('API4:2023: IPv6 clients are counted per /64, IPv4-mapped addresses as IPv4', async () => {
    const prefix = freshIpv6Prefix();
    for (let attempt = 0; attempt < 10; attempt++) {
      await loginFrom(
        app,
        `${prefix}${attempt.toString(16)}:0:0:${attempt + 1}`,
        uniqueEmail(),
      ).expect(401);
    }
    expectRateLimited(await loginFrom(app, `${prefix}ffff:ffff:ffff:ffff`, uniqueEmail()), 60);
    // The neighbouring /64 is someone else.
    const [a, b, c] = prefix.split(':');
    const neighbour = `${a}:${b}:${c}:${(parseInt(prefix.split(':')[3], 16) ^ 1).toString(16)}::1`;
    await loginFrom(app, neighbour, uniqueEmail()).expect(401);

    const ip = freshIp();
    for (let attempt = 0; attempt < 10; attempt++) {
      await loginFrom(app, attempt % 2 ? ip : `::ffff:${ip}`, uniqueEmail()).expect(401);
    }
    expectRateLimited(await loginFrom(app, ip, uniqueEmail()), 60);
  });
});

describe('rate limits follow TRUST_PROXY', () => {
  it('ASVS 2.4.1: without a trusted proxy, X-Forwarded-For does not make a new client', async () => {
    const app = await createTestApp({ env: { RATE_LIMITS: 'on', TRUST_PROXY: 'false' } });
    try {
      const statuses: number[] = [];
      // Every request comes from the same TCP peer; a spoofed header each time changes nothing.
      for (let attempt = 0; attempt < 11; attempt++) {
        statuses.push((await loginFrom(app, freshIp(), uniqueEmail())).status);
      }
      expect(statuses).toEqual([...Array(10).fill(401), 429]);
    } finally {
      await app.close();
    }
  });
});

describe('per-account login throttling (memory store)', () => {
  const clock = new ManualClock();
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp({ env: LIMITS_ON, clock });
  });
  afterAll(() => app.close());

  it('API2:2023 ASVS 6.3.1 NIST 800-63B-4 3.2.2: after 5 failures each attempt waits 1 s, doubling to 15 min, from any IP; never a lock', async () => {
    const user = await register(app);
    for (let attempt = 0; attempt < 5; attempt++) {
      await loginFrom(app, freshIp(), user.email).expect(401);
    }
    let expected = 1;
    const waits: number[] = [];
    for (let round = 0; round < 13; round++) {
      // Rotating the address, or what X-Forwarded-For claims, does not reset it.
      const retryAfter = expectRateLimited(await loginFrom(app, freshIp(), user.email), 900);
      expectRateLimited(
        await api(app)
          .post('/auth/login')
          .set('X-Forwarded-For', `${freshIp()}, ${freshIp()}`)
          .send({ email: user.email, password: user.password }),
        900,
      );
      waits.push(retryAfter);
      expect(retryAfter).toBe(expected);
      clock.advance(retryAfter);
      await loginFrom(app, freshIp(), user.email).expect(401);
      expected = Math.min(expected * 2, 900);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
    // Capped, never permanent: the right password works once the delay is over, and resets the count.
    clock.advance(900);
    await loginFrom(app, freshIp(), user.email, user.password).expect(200);
    for (let attempt = 0; attempt < 5; attempt++) {
      await loginFrom(app, freshIp(), user.email).expect(401);
    }
    expectRateLimited(await loginFrom(app, freshIp(), user.email), 1);
  });

  it('API2:2023 ASVS 6.3.1: a success resets the count', async () => {
    const user = await register(app);
    for (let round = 0; round < 3; round++) {
      for (let attempt = 0; attempt < 4; attempt++) {
        await loginFrom(app, freshIp(), user.email).expect(401);
      }
      await loginFrom(app, freshIp(), user.email, user.password).expect(200);
    }
  });

  it('ASVS 6.3.8 API2:2023: unknown emails are throttled alike, with the same answers', async () => {
    const user = await register(app);
    const unknown = uniqueEmail('nobody');
    const answers = [];
    for (const email of [user.email, unknown]) {
      const seen = [];
      for (let attempt = 0; attempt < 6; attempt++) {
        const response = await loginFrom(app, freshIp(), email);
        seen.push({
          status: response.status,
          body: response.body,
          retryAfter: response.headers['retry-after'],
        });
      }
      answers.push(seen);
    }
    expect(answers[0].map(({ status }) => status)).toEqual([401, 401, 401, 401, 401, 429]);
    expect(answers[1]).toEqual(answers[0]);
  });

  it('API2:2023 ASVS 6.3.1: parallel attempts cannot slip past the count (it is taken atomically, per attempt)', async () => {
    const user = await register(app);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => loginFrom(app, freshIp(), user.email)),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(15).fill(429)]);
  });
});

describe('RATE_LIMITS=off', () => {
  it('API4:2023: turns every limit and the account throttle off; a production start with it logs a warning', async () => {
    const logger = new RecordingLogger();
    const app = await createTestApp({
      env: {
        RATE_LIMITS: 'off',
        TRUST_PROXY: 'true',
        NODE_ENV: 'production',
        SMTP_URL: 'smtp://127.0.0.1:1',
      },
      logger,
    });
    try {
      const user = await register(app);
      const ip = freshIp();
      for (let attempt = 0; attempt < 12; attempt++)
        await loginFrom(app, ip, user.email).expect(401);
      await loginFrom(app, ip, user.email, user.password).expect(200);
      expect(
        logger.lines.filter((line) => line.includes('RATE_LIMITS=off in production')),
      ).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

const redisSkip = await redisUnavailableReason();
const clusterSkip = redisClusterUnavailableReason();
if (redisSkip) console.warn(`Skipping the shared rate-limit tests on Redis: ${redisSkip}`);
if (clusterSkip)
  console.warn(`Skipping the shared rate-limit tests on Redis Cluster: ${clusterSkip}`);

describe.each([
  { store: 'Redis', skip: redisSkip },
  { store: 'Redis Cluster', skip: clusterSkip },
])('two instances sharing $store', ({ store, skip }) => {
  const suite = skip ? describe.skip : describe;
  suite(skip ? `skipped: ${skip}` : 'share every count', () => {
    const prefix = `latchkey-test-${randomUUID().slice(0, 8)}:`;
    let cluster: RedisClusterHandle | undefined;
    let a: NestExpressApplication;
    let b: NestExpressApplication;

    beforeAll(async () => {
      if (store === 'Redis Cluster') cluster = await startRedisCluster();
      const env = {
        ...LIMITS_ON,
        ...(cluster
          ? { REDIS_CLUSTER_NODES: cluster.nodes }
          : { REDIS_URL: TEST_REDIS_URL, REDIS_CLUSTER_NODES: '' }),
        REDIS_KEY_PREFIX: prefix,
      };
      [a, b] = await Promise.all([createTestApp({ env }), createTestApp({ env })]);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      if (cluster) await cluster.stop();
      else {
        const redis = new Redis(TEST_REDIS_URL);
        await deleteKeys(redis, prefix);
        redis.disconnect();
      }
    });

    it('API4:2023 ASVS 6.3.1: a login limit reached on A holds on B', async () => {
      const ip = freshIp();
      for (let attempt = 0; attempt < 10; attempt++) {
        await loginFrom(attempt % 2 ? a : b, ip, uniqueEmail()).expect(401);
      }
      expectRateLimited(await loginFrom(a, ip, uniqueEmail()), 60);
      expectRateLimited(await loginFrom(b, ip, uniqueEmail()), 60);
    });

    it('API2:2023 NIST 800-63B-4 3.2.2: an account throttled on A is throttled on B, whatever the IP', async () => {
      const user = await register(a);
      for (let attempt = 0; attempt < 5; attempt++)
        await loginFrom(a, freshIp(), user.email).expect(401);
      expectRateLimited(await loginFrom(b, freshIp(), user.email, user.password), 1);
    });

    it('API2:2023: parallel attempts on both instances cannot slip past the account count', async () => {
      const user = await register(a);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          loginFrom(index % 2 ? a : b, freshIp(), user.email),
        ),
      );
      expect(responses.filter((response) => response.status === 401)).toHaveLength(5);
    });
  });
});

describe('a rate-limit store that fails', () => {
  const suite = redisSkip ? describe.skip : describe;
  suite(redisSkip ? `skipped: ${redisSkip}` : 'behind a proxy that refuses', () => {
    let proxy: TcpProxy;
    let app: NestExpressApplication;
    beforeAll(async () => {
      proxy = await TcpProxy.inFrontOf(TEST_REDIS_URL);
      app = await createTestApp({
        env: {
          ...LIMITS_ON,
          REDIS_URL: proxy.url,
          // ConfigModule copies validated settings into process.env: the cluster tests' would win.
          REDIS_CLUSTER_NODES: '',
          REDIS_KEY_PREFIX: `latchkey-test-${randomUUID().slice(0, 8)}:`,
          DEPENDENCY_TIMEOUT: '1s',
        },
      });
    });
    afterAll(async () => {
      await app.close();
      await proxy.close();
    });

    it('ASVS 6.3.1 API2:2023: login, register and recovery fail closed (503 with Retry-After); the general limit only logs', async () => {
      const user = await account(app);
      proxy.set('refuse');
      const login = await loginFrom(app, freshIp(), user.email, user.password);
      expect(login.status).toBe(503);
      expect(login.body).toMatchObject({ code: 'service_unavailable' });
      expect(Number(login.headers['retry-after'])).toBeGreaterThan(0);
      await api(app)
        .post('/auth/register')
        .set('X-Forwarded-For', freshIp())
        .send({ email: uniqueEmail(), password: PASSWORD })
        .expect(503);
      await api(app)
        .post('/auth/forgot-password')
        .set('X-Forwarded-For', freshIp())
        .send({ email: user.email })
        .expect(503);
      // Sessions live in memory here: only the general limit needs Redis, and it lets this through.
      await api(app)
        .get('/users/me')
        .set('X-Forwarded-For', freshIp())
        .set(bearer(user.token))
        .expect(200);
      proxy.set('pass');
      // Recovers by itself once the store answers again.
      for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
        const again = await loginFrom(app, freshIp(), user.email, user.password);
        if (again.status === 200) return;
        expect(again.status).toBe(503);
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error('the login did not recover after Redis came back');
    });
  });
});
