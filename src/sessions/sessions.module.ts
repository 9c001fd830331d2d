import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import type { Env } from '../config/env.validation.js';
import { Clock, SystemClock } from './clock.js';
import { SessionStore } from './session-store.js';
import { SessionsService } from './sessions.service.js';
import { MemorySessionStore } from './stores/memory.session-store.js';
import { PostgresSessionStore } from './stores/postgres.session-store.js';
import { RedisSessionStore } from './stores/redis.session-store.js';

/** Connects before the app starts serving, so a wrong REDIS_URL stops start-up with a clear message. */
async function connectRedis(url: string): Promise<Redis> {
  const logger = new Logger('Redis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  client.on('error', (error: Error) => logger.warn(`Redis connection problem: ${error.message}`));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`Cannot reach Redis at REDIS_URL: ${(error as Error).message}`);
  }
  return client;
}

@Module({
  providers: [
    { provide: Clock, useClass: SystemClock },
    {
      provide: SessionStore,
      inject: [ConfigService, Clock, DataSource],
      useFactory: async (
        config: ConfigService<Env, true>,
        clock: Clock,
        dataSource: DataSource,
      ): Promise<SessionStore> => {
        switch (config.get('SESSION_STORE', { infer: true })) {
          case 'memory':
            if (config.get('NODE_ENV', { infer: true }) === 'production') {
              new Logger('Sessions').warn(
                'SESSION_STORE=memory in production: every restart logs everyone out, and instances do not share sessions',
              );
            }
            return new MemorySessionStore(clock);
          case 'postgres':
            return new PostgresSessionStore(dataSource, clock);
          case 'redis':
            return new RedisSessionStore(
              await connectRedis(config.get('REDIS_URL', { infer: true }) as string),
              config.get('REDIS_KEY_PREFIX', { infer: true }),
            );
        }
      },
    },
    SessionsService,
  ],
  exports: [SessionsService, SessionStore, Clock],
})
export class SessionsModule {}
