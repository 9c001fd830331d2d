import { Logger, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { type AppConfig, appConfig } from '../config/app.config.js';
import { type RedisConfig, redisConfig } from '../config/redis.config.js';
import { type SessionConfig, sessionConfig } from '../config/session.config.js';
import { REDIS, type RedisClient } from '../redis/redis.module.js';
import { Clock, SystemClock } from './clock.js';
import { SessionFence } from './session-fence.js';
import { SessionStore } from './session-store.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';
import { MemorySessionStore } from './stores/memory.session-store.js';
import { PostgresSessionStore } from './stores/postgres.session-store.js';
import { RedisSessionStore } from './stores/redis.session-store.js';

@Module({
  imports: [AuditModule],
  controllers: [SessionsController],
  providers: [
    { provide: Clock, useClass: SystemClock },
    {
      provide: SessionStore,
      inject: [sessionConfig.KEY, appConfig.KEY, redisConfig.KEY, Clock, DataSource, REDIS],
      useFactory: (
        config: SessionConfig,
        app: AppConfig,
        redis: RedisConfig,
        clock: Clock,
        dataSource: DataSource,
        redisClient: RedisClient | null,
      ): SessionStore => {
        const options = { maxPerUser: config.maxPerUser };
        switch (config.store) {
          case 'memory':
            if (app.isProduction) {
              new Logger('Sessions').warn(
                'SESSION_STORE=memory in production: every restart logs everyone out, and instances do not share sessions',
              );
            }
            return new MemorySessionStore(clock, options);
          case 'postgres':
            return new PostgresSessionStore(dataSource, clock, options);
          case 'redis':
            // Validation made sure REDIS_URL or REDIS_CLUSTER_NODES is set, so the client exists.
            return new RedisSessionStore(redisClient as RedisClient, {
              ...options,
              prefix: redis.keyPrefix,
            });
        }
      },
    },
    SessionsService,
    SessionFence,
  ],
  exports: [SessionsService, SessionFence, SessionStore, Clock],
})
export class SessionsModule {}
