import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Env } from '../src/config/env.validation.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import type { Session } from '../src/sessions/session.js';
import type { SessionStore } from '../src/sessions/session-store.js';
import { digestToken } from '../src/sessions/session-token.js';
import { SessionsService } from '../src/sessions/sessions.service.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.session-store.js';
import { PostgresSessionStore } from '../src/sessions/stores/postgres.session-store.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.session-store.js';
import { e2eDatabaseUrl, migrateOnce } from './support/app.js';
import { ManualClock } from './support/manual-clock.js';
import { deleteKeys, redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

const HOUR = 3600;
const settings: Partial<Env> = {
  SESSION_IDLE_TTL: 24 * HOUR,
  SESSION_ABSOLUTE_TTL: 14 * 24 * HOUR,
  SESSION_TOUCH_INTERVAL: 60,
};
const config = { get: (key: keyof Env) => settings[key] } as unknown as ConfigService<Env, true>;

interface Driver {
  store: SessionStore;
  /** A user id the store accepts (the postgres store's sessions reference real users). */
  newUser(): Promise<string>;
  close(): Promise<void>;
}

const redisSkipReason = await redisUnavailableReason();

const drivers: Record<string, (clock: ManualClock) => Promise<Driver>> = {
  memory: async (clock) => {
    const store = new MemorySessionStore(clock);
    return { store, newUser: async () => randomUUID(), close: async () => store.onModuleDestroy() };
  },
  postgres: async (clock) => {
    await migrateOnce();
    const dataSource = await new DataSource(dataSourceOptions(e2eDatabaseUrl())).initialize();
    const store = new PostgresSessionStore(dataSource, clock);
    const newUser = async () => {
      const [{ id }] = await dataSource.query(
        `INSERT INTO users (email, password_hash) VALUES ($1, 'not a hash') RETURNING id`,
        [`store-${randomUUID()}@example.com`],
      );
      return id as string;
    };
    return {
      store,
      newUser,
      close: async () => {
        store.onModuleDestroy();
        await dataSource.destroy();
      },
    };
  },
  redis: async () => {
    const prefix = `latchkey-test-${randomUUID().slice(0, 8)}:`;
    const redis = new Redis(TEST_REDIS_URL);
    const store = new RedisSessionStore(redis, prefix);
    return {
      store,
      newUser: async () => randomUUID(),
      close: async () => {
        await deleteKeys(redis, prefix);
        await store.onApplicationShutdown();
      },
    };
  },
};

describe.each(Object.keys(drivers))('SessionStore contract: %s', (name) => {
  const skip = name === 'redis' ? redisSkipReason : undefined;
  const suite = skip ? describe.skip : describe;
  if (skip) console.warn(`Skipping the redis SessionStore contract: ${skip}`);

  suite(skip ? `skipped: ${skip}` : 'runs against a real server', () => {
    let clock: ManualClock;
    let driver: Driver;
    let store: SessionStore;
    let sessions: SessionsService;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      driver = await drivers[name](clock);
      store = driver.store;
      sessions = new SessionsService(store, clock, config);
    });
    afterAll(() => driver.close());
    beforeEach(() => clock.advance(1));

    const session = async (overrides: Partial<Session> = {}): Promise<Session> => {
      const now = clock.now();
      const value: Session = {
        id: randomUUID(),
        userId: overrides.userId ?? (await driver.newUser()),
        tokenDigest: digestToken(randomUUID()),
        createdAt: now,
        lastUsedAt: now,
        expiresAt: new Date(now.getTime() + HOUR * 1000),
        absoluteExpiresAt: new Date(now.getTime() + 2 * HOUR * 1000),
        ip: '203.0.113.7',
        userAgent: 'contract-test/1.0',
        ...overrides,
      };
      await store.create(value);
      return value;
    };

    it('answers a readiness ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('creates a session and finds it by token digest, and nothing by another digest', async () => {
      const created = await session();
      await expect(store.findByTokenDigest(created.tokenDigest, clock.now())).resolves.toEqual(
        created,
      );
      await expect(store.findByTokenDigest(digestToken('other'), clock.now())).resolves.toBeNull();
    });

    it('keeps null client details as null', async () => {
      const created = await session({ ip: null, userAgent: null });
      const found = await store.findByTokenDigest(created.tokenDigest, clock.now());
      expect(found).toMatchObject({ ip: null, userAgent: null });
    });

    it('touch moves lastUsedAt and expiresAt', async () => {
      const created = await session();
      clock.advance(600);
      const expiresAt = new Date(clock.now().getTime() + HOUR * 1000);
      await expect(store.touch(created.id, clock.now(), expiresAt)).resolves.toBe(true);
      const found = await store.findByTokenDigest(created.tokenDigest, clock.now());
      expect(found).toMatchObject({
        lastUsedAt: clock.now(),
        expiresAt,
        createdAt: created.createdAt,
      });
    });

    it('an expired session is not found, not listed and cannot be touched back to life', async () => {
      const created = await session();
      clock.advance(HOUR);
      await expect(store.findByTokenDigest(created.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.listForUser(created.userId, clock.now())).resolves.toEqual([]);
      const later = new Date(clock.now().getTime() + HOUR * 1000);
      await expect(store.touch(created.id, clock.now(), later)).resolves.toBe(false);
    });

    it('revokes only a live session (an expired one is already gone)', async () => {
      const created = await session();
      clock.advance(HOUR);
      await expect(store.revoke(created.userId, created.id, clock.now())).resolves.toBe(false);
    });

    it('revokes a session for its owner only', async () => {
      const created = await session();
      await expect(store.revoke(await driver.newUser(), created.id, clock.now())).resolves.toBe(
        false,
      );
      await expect(
        store.findByTokenDigest(created.tokenDigest, clock.now()),
      ).resolves.not.toBeNull();
      await expect(store.revoke(created.userId, created.id, clock.now())).resolves.toBe(true);
      await expect(store.findByTokenDigest(created.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.revoke(created.userId, created.id, clock.now())).resolves.toBe(false);
      await expect(store.touch(created.id, clock.now(), created.expiresAt)).resolves.toBe(false);
    });

    it('revokes all of a user’s sessions, optionally but one, and no one else’s', async () => {
      const userId = await driver.newUser();
      const [a, b, c] = [
        await session({ userId }),
        await session({ userId }),
        await session({ userId }),
      ];
      const stranger = await session();
      await store.revokeAllForUser(userId, b.id);
      await expect(store.listForUser(userId, clock.now())).resolves.toEqual([b]);
      await store.revokeAllForUser(userId);
      for (const gone of [a, b, c]) {
        await expect(store.findByTokenDigest(gone.tokenDigest, clock.now())).resolves.toBeNull();
      }
      await expect(store.findByTokenDigest(stranger.tokenDigest, clock.now())).resolves.toEqual(
        stranger,
      );
    });

    it('lists a user’s live sessions, newest first', async () => {
      const userId = await driver.newUser();
      const older = await session({ userId });
      clock.advance(5);
      const newer = await session({ userId });
      const expiring = await session({
        userId,
        expiresAt: new Date(clock.now().getTime() + 10_000),
      });
      await session();
      clock.advance(10);
      await expect(store.listForUser(userId, clock.now())).resolves.toEqual([newer, older]);
      expect(expiring.id).toBeDefined();
    });

    it('a revoke racing touches never lets the session come back', async () => {
      for (let round = 0; round < 20; round++) {
        const created = await session();
        const expiresAt = new Date(clock.now().getTime() + HOUR * 1000);
        await Promise.all([
          store.touch(created.id, clock.now(), expiresAt),
          store.revoke(created.userId, created.id, clock.now()),
          store.touch(created.id, clock.now(), expiresAt),
        ]);
        await expect(store.findByTokenDigest(created.tokenDigest, clock.now())).resolves.toBeNull();
        await expect(store.listForUser(created.userId, clock.now())).resolves.toEqual([]);
      }
    });

    describe('with the session policy', () => {
      it('slides the idle window on use, writing at most once per touch interval', async () => {
        const { token, session: started } = await sessions.start(await driver.newUser(), {});
        clock.advance(30);
        expect((await sessions.authenticate(token))?.lastUsedAt).toEqual(started.lastUsedAt);
        clock.advance(31);
        const slid = await sessions.authenticate(token);
        expect(slid?.lastUsedAt).toEqual(clock.now());
        expect(slid?.expiresAt).toEqual(new Date(clock.now().getTime() + 24 * HOUR * 1000));
        const stored = await store.findByTokenDigest(started.tokenDigest, clock.now());
        expect(stored?.expiresAt).toEqual(slid?.expiresAt);
      });

      it('ends a session unused for the idle timeout', async () => {
        const { token } = await sessions.start(await driver.newUser(), {});
        clock.advance(24 * HOUR - 1);
        await expect(sessions.authenticate(token)).resolves.not.toBeNull();
        clock.advance(24 * HOUR);
        await expect(sessions.authenticate(token)).resolves.toBeNull();
      });

      it('ends a session at the absolute timeout however much it is used', async () => {
        const { token, session: started } = await sessions.start(await driver.newUser(), {});
        for (let day = 1; day < 14; day++) {
          clock.advance(20 * HOUR);
          await expect(sessions.authenticate(token)).resolves.not.toBeNull();
        }
        const last = await sessions.authenticate(token);
        expect(last?.expiresAt.getTime()).toBeLessThanOrEqual(started.absoluteExpiresAt.getTime());
        clock.advance((started.absoluteExpiresAt.getTime() - clock.now().getTime()) / 1000);
        await expect(sessions.authenticate(token)).resolves.toBeNull();
      });
    });
  });
});

describe('driver specifics', () => {
  it('postgres: stores only the token digest, and purges expired rows', async () => {
    await migrateOnce();
    const clock = new ManualClock(new Date());
    const dataSource = await new DataSource(dataSourceOptions(e2eDatabaseUrl())).initialize();
    const store = new PostgresSessionStore(dataSource, clock);
    try {
      const sessions = new SessionsService(store, clock, config);
      const [{ id: userId }] = await dataSource.query(
        `INSERT INTO users (email, password_hash) VALUES ($1, 'not a hash') RETURNING id`,
        [`purge-${randomUUID()}@example.com`],
      );
      const { token, session } = await sessions.start(userId, {});
      const rows = await dataSource.query(`SELECT * FROM sessions WHERE id = $1`, [session.id]);
      expect(JSON.stringify(rows)).not.toContain(token);
      expect(rows[0].token_digest).toBe(digestToken(token));
      clock.advance(24 * HOUR);
      await expect(store.purgeExpired()).resolves.toBeGreaterThanOrEqual(1);
      await expect(
        dataSource.query(`SELECT 1 FROM sessions WHERE id = $1`, [session.id]),
      ).resolves.toEqual([]);
    } finally {
      store.onModuleDestroy();
      await dataSource.destroy();
    }
  });

  (redisSkipReason ? it.skip : it)('redis: every key of a session expires by itself', async () => {
    const prefix = `latchkey-test-${randomUUID().slice(0, 8)}:`;
    const redis = new Redis(TEST_REDIS_URL);
    const store = new RedisSessionStore(redis, prefix);
    try {
      const sessions = new SessionsService(store, new ManualClock(new Date()), config);
      const { token, session } = await sessions.start(randomUUID(), {});
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.sort()).toEqual(
        [
          `${prefix}session:${session.id}`,
          `${prefix}token:${session.tokenDigest}`,
          `${prefix}user:${session.userId}`,
        ].sort(),
      );
      expect(keys.join(' ')).not.toContain(token);
      for (const key of keys) {
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(14 * 24 * HOUR * 1000);
      }
    } finally {
      await deleteKeys(redis, prefix);
      await store.onApplicationShutdown();
    }
  });
});
