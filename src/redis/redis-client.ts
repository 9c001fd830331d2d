import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { isDependencyFailure } from '../common/dependency-failure.js';
import type { RedisConfig } from '../config/redis.config.js';
import { StartupError } from '../config/startup-error.js';

/** One Redis server or a Redis Cluster: code that uses Redis works with either. */
export type RedisClient = Redis | Cluster;

/** Injection token of the shared client: a `RedisClient`, or null when no Redis is configured. */
export const REDIS = Symbol('REDIS');

/** DEPENDENCY_TIMEOUT's default, for callers (tests) that do not say. */
const DEFAULT_TIMEOUT_MS = 3000;

/**
 * The options of every connection, also each node's in a cluster: a dead, unreachable or stalled
 * Redis fails a command within `ms` instead of holding it. A connection that delivers nothing while
 * commands wait is dropped (`socketTimeout`) and made anew, so a stall ends with the network's.
 */
const connectionOptions = (ms: number): RedisOptions => ({
  connectTimeout: ms,
  commandTimeout: ms,
  socketTimeout: ms,
  maxRetriesPerRequest: 2,
});

/** Where the client connects (`RedisConfig`, or a test's own servers), and its timeout. */
export type RedisAddress = Partial<Pick<RedisConfig, 'url'>> &
  Pick<RedisConfig, 'clusterNodes'> & { timeoutMs?: number };

/**
 * Every request sends a command or two (the rate limit, the redis session store): commands issued
 * in the same turn of the event loop, by any requests, go out as one write and one read instead of
 * a system call each (ioredis' auto-pipelining; order per connection is kept). One server only:
 * on a cluster, ioredis groups a script's command by its first argument (the key count), not its
 * first key, and then fails pipelines that mix slots.
 */
const AUTO_PIPELINING = { enableAutoPipelining: true };

/** A client for the configured Redis, not yet connected; null when none is configured. */
export function createRedisClient(config: RedisAddress): RedisClient | null {
  const options = connectionOptions(config.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  // No offline queue: while there is no connection, a command fails at once (a 503) instead of
  // waiting for one. The cluster's own queue would also have no timeout at all.
  if (config.clusterNodes.length > 0) {
    return new Cluster(config.clusterNodes, {
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: options,
    });
  }
  if (config.url) {
    return new Redis(config.url, {
      ...options,
      ...AUTO_PIPELINING,
      lazyConnect: true,
      enableOfflineQueue: false,
    });
  }
  return null;
}

/** Not the URL itself: it may hold a password. */
const where = (config: RedisAddress) =>
  config.clusterNodes.length > 0
    ? `the Redis Cluster at REDIS_CLUSTER_NODES (${config.clusterNodes.map(({ host, port }) => `${host}:${port}`).join(',')})`
    : 'Redis at REDIS_URL';

/**
 * Creates the client and tries to connect it before the app serves. A Redis that is down or does
 * not answer does not stop start-up: the client keeps reconnecting by itself, and until it is
 * back, what needs Redis answers 503 and readiness says so. A Redis that answers with a refusal
 * (a wrong password, say) stops start-up with one clear message: waiting would not fix it.
 */
export async function connectRedis(
  config: RedisAddress,
  logger = new Logger('Redis'),
): Promise<RedisClient | null> {
  const client = createRedisClient(config);
  if (!client) return null;
  let up = false;
  let failure: Error | undefined;
  // Once per outage, not at every reconnection attempt.
  const onError = (error: Error) => {
    if (up) logger.warn(`Lost ${where(config)}: ${error.message}; reconnecting`);
    up = false;
    failure ??= error;
  };
  client.on('error', onError);
  // A cluster reports its nodes' errors (a node down, say) apart from its own.
  if (client instanceof Cluster) client.on('node error', onError);
  client.on('ready', () => {
    if (failure) logger.log(`${where(config)} answers`);
    up = true;
    failure = undefined;
  });
  try {
    await client.connect();
  } catch (error) {
    // connect() rejects with "Connection is closed" and the like; the first error event says why.
    const cause = failure ?? (error as Error);
    if (!isDependencyFailure(cause)) {
      client.disconnect();
      throw new StartupError(`Cannot use ${where(config)}: ${cause.message}`, { cause });
    }
    logger.warn(
      `Cannot reach ${where(config)} (${cause.message}): starting without it; ` +
        'requests that need it answer 503 until it does',
    );
  }
  return client;
}

/** Lets pending replies arrive, then closes; a client that cannot say goodbye is dropped. */
export async function closeRedis(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
