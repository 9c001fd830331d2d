import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from './auth/auth.module.js';
import { loggingModule } from './common/logging.js';
import { envFilePaths } from './config/env-files.js';
import { validateEnv } from './config/env.validation.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { UsersModule } from './users/users.module.js';

@Module({})
export class AppModule {
  /**
   * @param overrides settings that win over the environment and .env (tests use them to set up
   *   a database or short session lifetimes without touching process.env).
   */
  static forRoot(overrides: Record<string, string> = {}): DynamicModule {
    const config = ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      skipProcessEnv: true,
      envFilePath: envFilePaths(),
      validate: (raw) => validateEnv({ ...raw, ...overrides }),
    });
    // Nest awaits this later, and reports a configuration error then; until that moment the
    // rejection must not count as unhandled (which would crash the process with a stack trace).
    config.catch(() => undefined);
    return {
      module: AppModule,
      imports: [
        config,
        loggingModule(),
        DatabaseModule,
        SessionsModule,
        UsersModule,
        AuthModule,
        HealthModule,
      ],
    };
  }
}
