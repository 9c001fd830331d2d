import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type AppConfig, appConfig } from '../config/app.config.js';
import { type DatabaseConfig, databaseConfig } from '../config/database.config.js';
import { DatabaseConnection } from './database-connection.js';
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

/**
 * The DataSource, created without a connection so that the app can start while the database is
 * away; DatabaseConnection connects it. Its entity metadata is built at once all the same, so
 * repositories work from the start and a query before the connection fails as any query on a
 * database that is down ("Driver not Connected"), not on missing metadata.
 */
const createDataSource = async (options: DataSourceOptions) => {
  const dataSource = new DataSource(options);
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  return dataSource;
};

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedDatabaseModule],
      inject: [databaseConfig.KEY, appConfig.KEY, EmbeddedDatabaseHolder],
      useFactory: async (
        config: DatabaseConfig,
        app: AppConfig,
        embedded: EmbeddedDatabaseHolder,
      ) => ({
        ...dataSourceOptions(await embedded.databaseUrl(config), {
          timeoutMs: app.dependencyTimeoutMs,
        }),
        manualInitialization: true,
        // Nothing here waits for the database, so a failure is a bug: retrying would only delay it.
        toRetry: () => false,
      }),
      dataSourceFactory: (options) => createDataSource(options as DataSourceOptions),
    }),
  ],
  providers: [DatabaseConnection],
})
export class DatabaseModule {}
