import { type ConfigOf, namespace } from './namespace.js';

export const redisConfig = namespace('redis', (env) => ({
  url: env.REDIS_URL,
  /** Non-empty: the cluster client is used and `url` is ignored. */
  clusterNodes: parseNodes(env.REDIS_CLUSTER_NODES),
  keyPrefix: env.REDIS_KEY_PREFIX,
}));
export type RedisConfig = ConfigOf<typeof redisConfig>;

/** "host:port,host:port" (validated by Env) as ioredis's cluster start-up nodes. */
export function parseNodes(value: string | undefined): { host: string; port: number }[] {
  if (!value) return [];
  return value.split(',').map((node) => {
    const at = node.trim().lastIndexOf(':');
    return { host: node.trim().slice(0, at), port: Number(node.trim().slice(at + 1)) };
  });
}
