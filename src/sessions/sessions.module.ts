import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Env } from '../config/env.validation.js';
import { Clock, SystemClock } from './clock.js';
import { SessionStore } from './session-store.js';
import { SessionsService } from './sessions.service.js';
import { MemorySessionStore } from './stores/memory.session-store.js';

@Module({
  providers: [
    { provide: Clock, useClass: SystemClock },
    {
      provide: SessionStore,
      inject: [ConfigService, Clock],
      useFactory: (config: ConfigService<Env, true>, clock: Clock): SessionStore => {
        const driver = config.get('SESSION_STORE', { infer: true });
        switch (driver) {
          case 'memory':
            return new MemorySessionStore(clock);
          default:
            throw new Error(`SESSION_STORE=${driver} is not available yet`);
        }
      },
    },
    SessionsService,
  ],
  exports: [SessionsService, SessionStore, Clock],
})
export class SessionsModule {}
