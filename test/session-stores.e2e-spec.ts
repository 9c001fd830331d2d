import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { SessionConfig } from '../src/config/session.config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { closeRedis, connectRedis, type RedisClient } from '../src/redis/redis-client.js';
import type { Session } from '../src/sessions/session.js';
import type { SessionStore } from '../src/sessions/session-store.js';
import { digestToken } from '../src/sessions/session-token.js';
import { SessionsService } from '../src/sessions/sessions.service.js';
import { MemorySessionStore } from '../src/sessions/stores/memory.session-store.js';
import { PostgresSessionStore } from '../src/sessions/stores/postgres.session-store.js';
import { RedisSessionStore } from '../src/sessions/stores/redis.session-store.js';
import { User } from '../src/users/user.entity.js';
import { e2eDatabaseUrl, migrateOnce } from './support/app.js';
import { ManualClock } from './support/manual-clock.js';
import { deleteKeys, redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';
import { redisClusterUnavailableReason, startRedisCluster } from './support/redis-cluster.js';

const HOUR = 3600;
const MAX_PER_USER = 3;
const policy: SessionConfig = {
  store: 'memory',
  idleTtlMs: 24 * HOUR * 1000,
  absoluteTtlMs: 14 * 24 * HOUR * 1000,
  touchIntervalMs: 60 * 1000,
  maxPerUser: MAX_PER_USER,
};

interface Driver {
  store: SessionStore;
  /** A user id the store accepts (the postgres store's sessions reference real users). */
  newUser(): Promise<string>;
  /** Moves the user to a new credential version, where the store knows users (postgres). */
  setCredentialVersion?(userId: string, version: number): Promise<void>;
  deleteUser?(userId: string): Promise<void>;
  /** The Redis drivers' client and prefix, to look at their keys. */
  redis?: { client: RedisClient; prefix: string };
  close(): Promise<void>;
}

interface DriverSpec {
  /** Why it cannot run here, if it cannot. */
  skip?: string;
  /** `create` refuses a session whose user is gone or on another credential version. */
  checksUser?: boolean;
  /** Keeps a per-user index in Redis, whose size the cap bounds. */
  redisIndex?: boolean;
  start(clock: ManualClock): Promise<Driver>;
}

const testPrefix = () => `latchkey-test-${randomUUID().slice(0, 8)}:`;
const redisSkipReason = await redisUnavailableReason();

const drivers: Record<string, DriverSpec> = {
  memory: {
    start: async (clock) => {
      const store = new MemorySessionStore(clock, { maxPerUser: MAX_PER_USER });
      return {
        store,
        newUser: async () => randomUUID(),
        close: async () => store.onModuleDestroy(),
      };
    },
  },
  postgres: {
    checksUser: true,
    start: async (clock) => {
      await migrateOnce();
      const dataSource = await new DataSource(dataSourceOptions(e2eDatabaseUrl())).initialize();
      const store = new PostgresSessionStore(dataSource, clock, { maxPerUser: MAX_PER_USER });
      return {
        store,
        newUser: async () => {
          const [{ id }] = await dataSource.query(
            `INSERT INTO users (email, password_hash) VALUES ($1, 'not a hash') RETURNING id`,
            [`store-${randomUUID()}@example.com`],
          );
          return id as string;
        },
        setCredentialVersion: async (userId, version) => {
          await dataSource.query(`UPDATE users SET credential_version = $2 WHERE id = $1`, [
            userId,
            version,
          ]);
        },
        deleteUser: async (userId) => {
          await dataSource.query(`DELETE FROM users WHERE id = $1`, [userId]);
        },
        close: async () => {
          store.onModuleDestroy();
          await dataSource.destroy();
        },
      };
    },
  },
  redis: {
    skip: redisSkipReason,
    redisIndex: true,
    start: async () => {
      const prefix = testPrefix();
      const client = (await connectRedis({ url: TEST_REDIS_URL, clusterNodes: [] })) as Redis;
      return {
        store: new RedisSessionStore(client, { prefix, maxPerUser: MAX_PER_USER }),
        newUser: async () => randomUUID(),
        redis: { client, prefix },
        close: async () => {
          await deleteKeys(client, prefix);
          await closeRedis(client);
        },
      };
    },
  },
  'redis-cluster': {
    skip: redisClusterUnavailableReason(),
    redisIndex: true,
    start: async () => {
      const cluster = await startRedisCluster();
      try {
        const prefix = testPrefix();
        const client = (await connectRedis({ clusterNodes: cluster.nodeList })) as RedisClient;
        return {
          store: new RedisSessionStore(client, { prefix, maxPerUser: MAX_PER_USER }),
          newUser: async () => randomUUID(),
          redis: { client, prefix },
          close: async () => {
            await closeRedis(client);
            await cluster.stop();
          },
        };
      } catch (error) {
        await cluster.stop();
        throw error;
      }
    },
  },
};

describe.each(Object.keys(drivers))('SessionStore contract: %s', (name) => {
  const spec = drivers[name];
  const suite = spec.skip ? describe.skip : describe;
  if (spec.skip) console.warn(`Skipping the ${name} SessionStore contract: ${spec.skip}`);

  suite(spec.skip ? `skipped: ${spec.skip}` : 'runs against a real server', () => {
    let clock: ManualClock;
    let driver: Driver;
    let store: SessionStore;
    let sessions: SessionsService;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      driver = await spec.start(clock);
      store = driver.store;
      sessions = new SessionsService(store, clock, policy);
    });
    afterAll(() => driver?.close());
    beforeEach(() => clock.advance(1));

    const draft = async (overrides: Partial<Session> = {}): Promise<Session> => {
      const now = clock.now();
      return {
        id: randomUUID(),
        userId: overrides.userId ?? (await driver.newUser()),
        tokenDigest: digestToken(randomUUID()),
        credentialVersion: 0,
        createdAt: now,
        lastUsedAt: now,
        expiresAt: new Date(now.getTime() + HOUR * 1000),
        absoluteExpiresAt: new Date(now.getTime() + 2 * HOUR * 1000),
        ip: '203.0.113.7',
        userAgent: 'contract-test/1.0',
        ...overrides,
      };
    };

    const session = async (overrides: Partial<Session> = {}): Promise<Session> => {
      const value = await draft(overrides);
      await expect(store.create(value)).resolves.toBe(true);
      return value;
    };

    const later = () => new Date(clock.now().getTime() + HOUR * 1000);
    const listedIds = async (userId: string) =>
      (await store.listForUser(userId, clock.now())).map(({ id }) => id);

    /** Through the policy, as a login does; the store must accept it. */
    const start = async (userId?: string) => {
      const owner = { id: userId ?? (await driver.newUser()), credentialVersion: 0 };
      const started = await sessions.start(owner, {});
      if (!started) throw new Error('the store refused a session of a current user');
      return started;
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
      const expiresAt = later();
      await expect(store.touch(created.userId, created.id, clock.now(), expiresAt)).resolves.toBe(
        true,
      );
      const found = await store.findByTokenDigest(created.tokenDigest, clock.now());
      expect(found).toMatchObject({
        lastUsedAt: clock.now(),
        expiresAt,
        createdAt: created.createdAt,
      });
    });

    it('touches a session for its owner only', async () => {
      const created = await session();
      const stranger = await driver.newUser();
      await expect(store.touch(stranger, created.id, clock.now(), later())).resolves.toBe(false);
      await expect(store.findByTokenDigest(created.tokenDigest, clock.now())).resolves.toEqual(
        created,
      );
    });

    it('an expired session is not found, not listed and cannot be touched back to life', async () => {
      const created = await session();
      clock.advance(HOUR);
      await expect(store.findByTokenDigest(created.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.listForUser(created.userId, clock.now())).resolves.toEqual([]);
      await expect(store.touch(created.userId, created.id, clock.now(), later())).resolves.toBe(
        false,
      );
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
      await expect(
        store.touch(created.userId, created.id, clock.now(), created.expiresAt),
      ).resolves.toBe(false);
    });

    it('revokes all of a user’s sessions, optionally but one, and no one else’s', async () => {
      const userId = await driver.newUser();
      const [a, b, c] = [
        await session({ userId }),
        await session({ userId }),
        await session({ userId }),
      ];
      const stranger = await session();
      await store.revokeAllForUser(userId, { id: b.id, credentialVersion: 0 });
      await expect(store.listForUser(userId, clock.now())).resolves.toEqual([b]);
      await store.revokeAllForUser(userId);
      for (const gone of [a, b, c]) {
        await expect(store.findByTokenDigest(gone.tokenDigest, clock.now())).resolves.toBeNull();
      }
      await expect(store.findByTokenDigest(stranger.tokenDigest, clock.now())).resolves.toEqual(
        stranger,
      );
    });

    it('revoking all but one moves the kept session to the new credential version', async () => {
      const userId = await driver.newUser();
      const other = await session({ userId });
      const kept = await session({ userId });
      await driver.setCredentialVersion?.(userId, 1);
      await store.revokeAllForUser(userId, { id: kept.id, credentialVersion: 1 });
      const moved = { ...kept, credentialVersion: 1 };
      await expect(store.listForUser(userId, clock.now())).resolves.toEqual([moved]);
      await expect(store.findByTokenDigest(kept.tokenDigest, clock.now())).resolves.toEqual(moved);
      await expect(store.findByTokenDigest(other.tokenDigest, clock.now())).resolves.toBeNull();
      // At the new version it counts like any current session: the next login does not drop it.
      clock.advance(1);
      const next = await session({ userId, credentialVersion: 1 });
      await expect(store.listForUser(userId, clock.now())).resolves.toEqual([next, moved]);
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

    it(`a session beyond the cap (${MAX_PER_USER}) evicts exactly the least recently used one`, async () => {
      const userId = await driver.newUser();
      const first = await session({ userId });
      clock.advance(1);
      const second = await session({ userId });
      clock.advance(1);
      const third = await session({ userId });
      clock.advance(1);
      // The oldest is now used more recently than the second, which becomes the least recent.
      await expect(store.touch(userId, first.id, clock.now(), later())).resolves.toBe(true);
      clock.advance(1);
      const fourth = await session({ userId });
      await expect(listedIds(userId)).resolves.toEqual([fourth.id, third.id, first.id]);
      await expect(store.findByTokenDigest(second.tokenDigest, clock.now())).resolves.toBeNull();
      await expect(store.findByTokenDigest(first.tokenDigest, clock.now())).resolves.not.toBeNull();
    });

    it('evicts by last use, then by creation, then by id', async () => {
      const userId = await driver.newUser();
      const usedAt = clock.now();
      clock.advance(10);
      // Three sessions used at the same instant: the earliest created goes first, then the
      // smaller id of the two created together.
      const [early, x, y] = [
        await session({ userId, createdAt: new Date(usedAt.getTime() - 2000), lastUsedAt: usedAt }),
        await session({ userId, createdAt: new Date(usedAt.getTime() - 1000), lastUsedAt: usedAt }),
        await session({ userId, createdAt: new Date(usedAt.getTime() - 1000), lastUsedAt: usedAt }),
      ];
      const [smaller, larger] = x.id < y.id ? [x, y] : [y, x];
      const fourth = await session({ userId });
      expect((await listedIds(userId)).sort()).toEqual([fourth.id, x.id, y.id].sort());
      await expect(store.findByTokenDigest(early.tokenDigest, clock.now())).resolves.toBeNull();
      clock.advance(1);
      const fifth = await session({ userId });
      expect((await listedIds(userId)).sort()).toEqual([fifth.id, fourth.id, larger.id].sort());
      await expect(store.findByTokenDigest(smaller.tokenDigest, clock.now())).resolves.toBeNull();
    });

    it('drops the sessions of an older credential version when a newer one is created', async () => {
      const userId = await driver.newUser();
      const old = [await session({ userId }), await session({ userId })];
      await driver.setCredentialVersion?.(userId, 1);
      clock.advance(1);
      const current = await session({ userId, credentialVersion: 1 });
      await expect(listedIds(userId)).resolves.toEqual([current.id]);
      for (const gone of old) {
        await expect(store.findByTokenDigest(gone.tokenDigest, clock.now())).resolves.toBeNull();
      }
    });

    // Only where the driver can, so that every driver runs every case it has (no skips to explain).
    const itWhen = (capable: boolean | undefined) => (capable ? it : () => undefined);

    itWhen(spec.checksUser)(
      'refuses a session of a gone user or of another credential version',
      async () => {
        const userId = await driver.newUser();
        await driver.setCredentialVersion?.(userId, 2);
        for (const credentialVersion of [1, 3]) {
          const refused = await draft({ userId, credentialVersion });
          await expect(store.create(refused)).resolves.toBe(false);
          await expect(
            store.findByTokenDigest(refused.tokenDigest, clock.now()),
          ).resolves.toBeNull();
        }
        await session({ userId, credentialVersion: 2 });
        await driver.deleteUser?.(userId);
        const orphan = await draft({ userId, credentialVersion: 2 });
        await expect(store.create(orphan)).resolves.toBe(false);
        await expect(store.listForUser(userId, clock.now())).resolves.toEqual([]);
      },
    );

    it('a login whose credentials changed meanwhile evicts nothing, even at the cap', async () => {
      const userId = await driver.newUser();
      const kept = await session({ userId });
      await driver.setCredentialVersion?.(userId, 1);
      await store.revokeAllForUser(userId, { id: kept.id, credentialVersion: 1 });
      // Logins that checked the password before the change; each is used later than `kept`.
      for (let login = 0; login < MAX_PER_USER + 1; login++) {
        clock.advance(1);
        const stale = await draft({ userId, credentialVersion: 0 });
        await expect(store.create(stale)).resolves.toBe(false);
        await expect(store.findByTokenDigest(stale.tokenDigest, clock.now())).resolves.toBeNull();
      }
      await expect(store.listForUser(userId, clock.now())).resolves.toEqual([
        { ...kept, credentialVersion: 1 },
      ]);
    });

    itWhen(spec.redisIndex)(
      'the per-user index never holds more than the cap, and loses expired members on a write',
      async () => {
        const { client, prefix } = driver.redis as NonNullable<Driver['redis']>;
        const userId = await driver.newUser();
        const index = `${prefix}{${userId}}:sessions`;
        // A second apart, so that each new session evicts the oldest rather than a tie.
        const next = (overrides: Partial<Session> = {}) => {
          clock.advance(1);
          return session({ userId, ...overrides });
        };
        for (let created = 1; created <= MAX_PER_USER + 3; created++) {
          await next();
          await expect(client.zcard(index)).resolves.toBe(Math.min(created, MAX_PER_USER));
        }
        // One expires by the clock, one as Redis would expire it (its hash gone).
        const expiring = await next({ expiresAt: new Date(clock.now().getTime() + 10_000) });
        const vanished = await next();
        await client.del(`${prefix}{${userId}}:session:${vanished.id}`);
        clock.advance(10);
        await next();
        await expect(client.zcard(index)).resolves.toBe(2);
        await expect(client.zscore(index, expiring.id)).resolves.toBeNull();
        await expect(client.zscore(index, vanished.id)).resolves.toBeNull();
      },
    );

    it('a revoke racing touches never lets the session come back', async () => {
      for (let round = 0; round < 20; round++) {
        const created = await session();
        const expiresAt = later();
        await Promise.all([
          store.touch(created.userId, created.id, clock.now(), expiresAt),
          store.revoke(created.userId, created.id, clock.now()),
          store.touch(created.userId, created.id, clock.now(), expiresAt),
        ]);
        await expect(store.findByTokenDigest(created.tokenDigest, clock.now())).resolves.toBeNull();
        await expect(store.listForUser(created.userId, clock.now())).resolves.toEqual([]);
      }
    });

    it('concurrent logins of one user still end at the cap', async () => {
      const userId = await driver.newUser();
      const created = await Promise.all(
        Array.from({ length: 2 * MAX_PER_USER }, async () => {
          const value = await draft({ userId });
          return (await store.create(value)) ? value : null;
        }),
      );
      expect(created.every((value) => value !== null)).toBe(true);
      await expect(listedIds(userId)).resolves.toHaveLength(MAX_PER_USER);
    });

    describe('with the session policy', () => {
      it('slides the idle window on use, writing at most once per touch interval', async () => {
        const { token, session: started } = await start();
        clock.advance(30);
        expect((await sessions.authenticate(token))?.session.lastUsedAt).toEqual(
          started.lastUsedAt,
        );
        clock.advance(31);
        const slid = await sessions.authenticate(token);
        expect(slid?.session.lastUsedAt).toEqual(clock.now());
        expect(slid?.session.expiresAt).toEqual(new Date(clock.now().getTime() + 24 * HOUR * 1000));
        const stored = await store.findByTokenDigest(started.tokenDigest, clock.now());
        expect(stored?.expiresAt).toEqual(slid?.session.expiresAt);
      });

      it('ends a session unused for the idle timeout', async () => {
        const { token } = await start();
        clock.advance(24 * HOUR - 1);
        await expect(sessions.authenticate(token)).resolves.not.toBeNull();
        clock.advance(24 * HOUR);
        await expect(sessions.authenticate(token)).resolves.toBeNull();
      });

      it('ends a session at the absolute timeout however much it is used', async () => {
        const { token, session: started } = await start();
        for (let day = 1; day < 14; day++) {
          clock.advance(20 * HOUR);
          await expect(sessions.authenticate(token)).resolves.not.toBeNull();
        }
        const last = await sessions.authenticate(token);
        expect(last?.session.expiresAt.getTime()).toBeLessThanOrEqual(
          started.absoluteExpiresAt.getTime(),
        );
        clock.advance((started.absoluteExpiresAt.getTime() - clock.now().getTime()) / 1000);
        await expect(sessions.authenticate(token)).resolves.toBeNull();
      });
    });
  });
});

describe('driver specifics', () => {
  /** A postgres store on the test database, with one user who has one fresh session. */
  async function withPostgresSession(
    emailPrefix: string,
    test: (setup: {
      clock: ManualClock;
      dataSource: DataSource;
      store: PostgresSessionStore;
      userId: string;
      token: string;
      session: Session;
    }) => Promise<void>,
  ): Promise<void> {
    await migrateOnce();
    const clock = new ManualClock(new Date());
    const dataSource = await new DataSource(dataSourceOptions(e2eDatabaseUrl())).initialize();
    const store = new PostgresSessionStore(dataSource, clock, { maxPerUser: MAX_PER_USER });
    try {
      const sessions = new SessionsService(store, clock, policy);
      const [{ id: userId }] = await dataSource.query(
        `INSERT INTO users (email, password_hash) VALUES ($1, 'not a hash') RETURNING id`,
        [`${emailPrefix}-${randomUUID()}@example.com`],
      );
      const started = await sessions.start({ id: userId, credentialVersion: 0 }, {});
      if (!started) throw new Error('the store refused a session of a current user');
      await test({ clock, dataSource, store, userId, ...started });
    } finally {
      store.onModuleDestroy();
      await dataSource.destroy();
    }
  }

  it('postgres: stores only the token digest, and purges expired rows', () =>
    withPostgresSession('purge', async ({ clock, dataSource, store, token, session }) => {
      const rows = await dataSource.query(`SELECT * FROM sessions WHERE id = $1`, [session.id]);
      expect(JSON.stringify(rows)).not.toContain(token);
      expect(rows[0].token_digest).toBe(digestToken(token));
      clock.advance(24 * HOUR);
      await expect(store.purgeExpired()).resolves.toBeGreaterThanOrEqual(1);
      await expect(
        dataSource.query(`SELECT 1 FROM sessions WHERE id = $1`, [session.id]),
      ).resolves.toEqual([]);
    }));

  it("postgres: reads a live session with its owner's current row in one statement", () =>
    withPostgresSession('owner', async ({ clock, dataSource, store, userId, session }) => {
      const digest = session.tokenDigest;
      // Changed after the session was made: the owner is read as it is now.
      await dataSource.query(
        `UPDATE users SET credential_version = 1, role = 'admin', disabled = true WHERE id = $1`,
        [userId],
      );
      const found = await store.findWithOwnerByTokenDigest(digest, clock.now());
      expect(found?.session).toEqual(await store.findByTokenDigest(digest, clock.now()));
      expect(found?.owner).toEqual(
        await dataSource.getRepository(User).findOneByOrFail({ id: userId }),
      );
      expect(found?.owner).toMatchObject({ credentialVersion: 1, role: 'admin', disabled: true });
      await expect(
        store.findWithOwnerByTokenDigest(digestToken('other'), clock.now()),
      ).resolves.toBeNull();
      clock.advance(24 * HOUR);
      await expect(store.findWithOwnerByTokenDigest(digest, clock.now())).resolves.toBeNull();
    }));

  (redisSkipReason ? it.skip : it)('redis: every key of a session expires by itself', async () => {
    const prefix = testPrefix();
    const redis = new Redis(TEST_REDIS_URL);
    const store = new RedisSessionStore(redis, { prefix, maxPerUser: MAX_PER_USER });
    try {
      const sessions = new SessionsService(store, new ManualClock(new Date()), policy);
      const started = await sessions.start({ id: randomUUID(), credentialVersion: 0 }, {});
      if (!started) throw new Error('the redis store refused a session');
      const { token, session } = started;
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.sort()).toEqual(
        [
          `${prefix}{${session.userId}}:session:${session.id}`,
          `${prefix}{${session.userId}}:sessions`,
          `${prefix}token:${session.tokenDigest}`,
        ].sort(),
      );
      expect(keys.join(' ')).not.toContain(token);
      for (const key of keys) {
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(24 * HOUR * 1000);
      }
      await expect(redis.get(`${prefix}token:${session.tokenDigest}`)).resolves.toBe(
        `${session.userId} ${session.id}`,
      );
    } finally {
      await deleteKeys(redis, prefix);
      await closeRedis(redis);
    }
  });
});
