import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDependencyFailure } from '../common/dependency-failure.js';
import { type DatabaseConfig, databaseConfig } from '../config/database.config.js';
import { StartupError } from '../config/startup-error.js';

/** How long to wait between two tries while the database does not answer. */
const RETRY_DELAY_MS = 1000;

/**
 * Connects the DataSource, after applying pending migrations when DB_MIGRATIONS_RUN is set.
 *
 * Start-up waits for one try, which DEPENDENCY_TIMEOUT bounds. If the database does not answer,
 * the app starts anyway: not ready, and every query fails as with a database that went down
 * later ("Driver not Connected", a 503). It tries again every second, in the background, and
 * serves as soon as one try succeeds; from then on the pool replaces broken connections itself.
 * A database that answers with a refusal (a wrong password, an unknown database, a failing
 * migration) stops start-up instead: waiting would not fix it.
 */
@Injectable()
export class DatabaseConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private retry?: NodeJS.Timeout;
  private failure?: string;
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(databaseConfig.KEY) private readonly config: DatabaseConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      if (error instanceof StartupError) throw error;
      if (!isDependencyFailure(error)) {
        throw new StartupError(`Cannot use the database: ${(error as Error).message}`, {
          cause: error,
        });
      }
      this.failed(error as Error);
    }
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.retry);
  }

  private async connect(): Promise<void> {
    // On a DataSource of their own, so that no request uses the schema before it is current. Only
    // connecting is bounded: a migration may take longer than any request should (an index build),
    // and a migration that fails is a start-up error, not an outage to retry.
    if (this.config.migrationsRun) {
      const { extra, ...options } = this.dataSource.options as typeof this.dataSource.options & {
        extra?: { connectionTimeoutMillis?: number };
      };
      const migrator = await new DataSource({
        ...options,
        extra: { connectionTimeoutMillis: extra?.connectionTimeoutMillis },
      }).initialize();
      try {
        await migrator.runMigrations().catch((error: Error) => {
          throw new StartupError(`A migration failed: ${error.message}`, { cause: error });
        });
      } finally {
        await migrator.destroy();
      }
    }
    await this.dataSource.initialize();
    // A try that was under way when the app closed must not leave a pool behind.
    if (this.closed) {
      await this.dataSource.destroy();
      return;
    }
    if (this.failure) this.logger.log('The database answers: serving');
    this.failure = undefined;
  }

  private failed(error: Error): void {
    if (this.failure === undefined) {
      this.logger.warn(
        `The database does not answer (${error.message}): requests that need it answer 503 ` +
          `until it does; trying again every ${RETRY_DELAY_MS / 1000}s`,
      );
    } else if (this.failure !== error.message && !isDependencyFailure(error)) {
      this.logger.error(`The database refuses to serve: ${error.message}`);
    }
    this.failure = error.message;
    if (this.closed) return;
    this.retry = setTimeout(
      () => void this.connect().catch((next: Error) => this.failed(next)),
      RETRY_DELAY_MS,
    );
  }
}
