import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type AppConfig, appConfig } from '../config/app.config.js';
import { type RedisConfig, redisConfig } from '../config/redis.config.js';
import { closeRedis, connectRedis, REDIS, type RedisClient } from './redis-client.js';

export { REDIS, type RedisClient } from './redis-client.js';

/**
 * The one Redis client of the app (sessions, rate limiting), injected with `@Inject(REDIS)`: a
 * single server (REDIS_URL) or a cluster (REDIS_CLUSTER_NODES), connected at start-up if it answers
 * (else as soon as it does); null when neither is set.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [redisConfig.KEY, appConfig.KEY],
      useFactory: (config: RedisConfig, app: AppConfig) =>
        connectRedis({ ...config, timeoutMs: app.dependencyTimeoutMs }),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly client: RedisClient | null) {}

  /** After the HTTP server has drained (module destroy comes before it), so in-flight requests finish. */
  async onApplicationShutdown(): Promise<void> {
    if (this.client) await closeRedis(this.client);
  }
}
