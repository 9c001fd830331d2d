import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type DatabaseConfig, databaseConfig } from '../config/database.config.js';
import { dataSourceOptions } from './data-source-options.js';
import { EmbeddedDatabase } from './embedded-postgres.js';

/** Holds the embedded server, when one is used, so that shutdown can stop it. */
export class EmbeddedDatabaseHolder implements OnApplicationShutdown {
  server?: EmbeddedDatabase;

  /** DATABASE_URL when set; otherwise the URL of an embedded server started now. */
  async databaseUrl(config: DatabaseConfig): Promise<string> {
    if (config.url) return config.url;
    this.server = new EmbeddedDatabase({
      ...config.embedded,
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
      inject: [databaseConfig.KEY, EmbeddedDatabaseHolder],
      useFactory: async (config: DatabaseConfig, embedded: EmbeddedDatabaseHolder) =>
        dataSourceOptions(await embedded.databaseUrl(config), {
          migrationsRun: config.migrationsRun,
        }),
    }),
  ],
})
export class DatabaseModule {}
