import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdminModule } from './admin/admin.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CommonModule } from './common/common.module.js';
import { loggingModule } from './common/logging.js';
import { envFilePaths } from './config/env-files.js';
import { type Env, validateEnv } from './config/env.validation.js';
import { NAMESPACES } from './config/index.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { RedisModule } from './redis/redis.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { UsersModule } from './users/users.module.js';

@Module({})
export class AppModule {
  /**
   * @param overrides settings that win over the environment and .env (tests use them to set up
   *   a database or short session lifetimes without touching process.env).
   */
  static forRoot(overrides: Record<string, string> = {}): DynamicModule {
    let env: Env | undefined;
    const config = ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      skipProcessEnv: true,
      envFilePath: envFilePaths(),
      validate: (raw) => (env = validateEnv({ ...raw, ...overrides })),
      // The namespaces are computed when first injected, which is after validation.
      load: NAMESPACES.map((each) => each.register(() => env as Env)),
    });
    // Nest awaits this later, and reports a configuration error then; until that moment the
    // rejection must not count as unhandled (which would crash the process with a stack trace).
    config.catch(() => undefined);
    return {
      module: AppModule,
      imports: [
        config,
        CommonModule,
        loggingModule(),
        DatabaseModule,
        RedisModule,
        // Before AuthModule: its global guard then runs before AuthGuard.
        RateLimitModule,
        SessionsModule,
        UsersModule,
        AuthModule,
        AuditModule,
        AdminModule,
        HealthModule,
      ],
    };
  }
}
