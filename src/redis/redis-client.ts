import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/redis.config.js';

/** One Redis server or a Redis Cluster: code that uses Redis works with either. */
export type RedisClient = Redis | Cluster;

/** Injection token of the shared client: a connected `RedisClient`, or null when no Redis is configured. */
export const REDIS = Symbol('REDIS');

/**
 * The options of every connection, also each node's in a cluster. A dead or unreachable Redis
 * fails a request within seconds instead of holding it.
 */
const CONNECTION_OPTIONS: RedisOptions = {
  connectTimeout: 3000,
  commandTimeout: 3000,
  maxRetriesPerRequest: 2,
};

/** Where the client connects: `RedisConfig`, or a test's own servers. */
export type RedisAddress = Partial<Pick<RedisConfig, 'url'>> & Pick<RedisConfig, 'clusterNodes'>;

/** A client for the configured Redis, not yet connected; null when none is configured. */
export function createRedisClient(config: RedisAddress): RedisClient | null {
  if (config.clusterNodes.length > 0) {
    // The cluster queues commands on its own while it has no connection, and that queue has no
    // timeout: without it, a command fails at once instead of waiting for the cluster.
    return new Cluster(config.clusterNodes, {
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: CONNECTION_OPTIONS,
    });
  }
  if (config.url) return new Redis(config.url, { ...CONNECTION_OPTIONS, lazyConnect: true });
  return null;
}

/**
 * Creates and connects the client before the app serves, so a wrong address stops start-up with
 * one clear message. Later connection problems are logged as warnings; ioredis reconnects.
 */
export async function connectRedis(
  config: RedisAddress,
  logger = new Logger('Redis'),
): Promise<RedisClient | null> {
  const client = createRedisClient(config);
  if (!client) return null;
  let connected = false;
  let failure: Error | undefined;
  const onError = (error: Error) => {
    if (connected) logger.warn(`Redis connection problem: ${error.message}`);
    else failure ??= error;
  };
  client.on('error', onError);
  // A cluster reports its nodes' errors (a node down, say) apart from its own.
  if (client instanceof Cluster) client.on('node error', onError);
  try {
    await client.connect();
    connected = true;
  } catch (error) {
    client.disconnect();
    // Not the URL itself: it may hold a password.
    const where =
      client instanceof Cluster
        ? `the Redis Cluster at REDIS_CLUSTER_NODES (${config.clusterNodes.map(({ host, port }) => `${host}:${port}`).join(',')})`
        : 'Redis at REDIS_URL';
    // connect() rejects with "Connection is closed" and the like; the first error event says why.
    const cause = failure ?? (error as Error);
    throw new Error(`Cannot reach ${where}: ${cause.message}`, { cause });
  }
  return client;
}

/** Lets pending replies arrive, then closes; a client that cannot say goodbye is dropped. */
export async function closeRedis(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
