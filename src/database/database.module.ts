import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Env } from '../config/env.validation.js';
import { dataSourceOptions } from './data-source-options.js';
import { EmbeddedDatabase } from './embedded-postgres.js';

/** Holds the embedded server, when one is used, so that shutdown can stop it. */
export class EmbeddedDatabaseHolder implements OnApplicationShutdown {
  server?: EmbeddedDatabase;

  /** DATABASE_URL when set; otherwise the URL of an embedded server started now. */
  async databaseUrl(config: ConfigService<Env, true>): Promise<string> {
    const url = config.get('DATABASE_URL', { infer: true });
    if (url) return url;
    this.server = new EmbeddedDatabase({
      dataDir: config.get('EMBEDDED_DB_DIR', { infer: true }),
      port: config.get('EMBEDDED_DB_PORT', { infer: true }),
      logger: new Logger('EmbeddedPostgres'),
    });
    return this.server.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }
}

@Module({
  providers: [EmbeddedDatabaseHolder],
  exports: [EmbeddedDatabaseHolder],
})
class EmbeddedDatabaseModule {}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedDatabaseModule],
      inject: [ConfigService, EmbeddedDatabaseHolder],
      useFactory: async (config: ConfigService<Env, true>, embedded: EmbeddedDatabaseHolder) =>
        dataSourceOptions(await embedded.databaseUrl(config), {
          migrationsRun: config.get('DB_MIGRATIONS_RUN', { infer: true }),
        }),
    }),
  ],
})
export class DatabaseModule {}
