import 'reflect-metadata';
import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { Checkpoints } from '../../src/common/checkpoints.js';
import { Clock } from '../../src/sessions/clock.js';
import { randomBytes } from 'node:crypto';
import { E2E_DATABASE_URL, onServer, withDatabase } from '../setup/test-database.js';

export interface TestAppOptions {
  /** Settings on top of the test database's (e.g. short session lifetimes). */
  env?: Record<string, string>;
  clock?: Clock;
  /** Replaces the no-op checkpoints, so a race test can hold one side of a race. */
  checkpoints?: Checkpoints;
  logger?: LoggerService | false;
}

export const e2eDatabaseUrl = () => {
  const url = process.env[E2E_DATABASE_URL];
  if (!url)
    throw new Error(
      `${E2E_DATABASE_URL} is unset: run e2e tests through jest (global setup creates it)`,
    );
  return url;
};

let migrated: Promise<void> | undefined;

/** Applies the migrations once per run; test files start in parallel, so they take turns by a lock. */
export function migrateOnce(url: string = e2eDatabaseUrl()): Promise<void> {
  migrated ??= (async () => {
    const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
    const lock = dataSource.createQueryRunner();
    try {
      await lock.query('SELECT pg_advisory_lock(7351)');
      await dataSource.runMigrations({ transaction: 'all' });
      await lock.query('SELECT pg_advisory_unlock(7351)');
    } finally {
      await lock.release();
      await dataSource.destroy();
    }
  })();
  return migrated;
}

export interface OwnDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of its own on the test server, for tests whose subject is a whole table (the last
 * active admin of all accounts) and so cannot share the run's database with other files.
 * Migrated unless `migrated: false`.
 */
export async function ownDatabase({ migrated = true } = {}): Promise<OwnDatabase> {
  const name = `latchkey_test_own_${randomBytes(4).toString('hex')}`;
  await onServer(e2eDatabaseUrl(), `CREATE DATABASE ${name}`);
  const url = withDatabase(e2eDatabaseUrl(), name);
  if (migrated) {
    const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
    await dataSource.runMigrations({ transaction: 'all' }).finally(() => dataSource.destroy());
  }
  return {
    url,
    drop: () => onServer(e2eDatabaseUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** The real application (same configureApp as main.ts) on the run's fresh PostgreSQL database. */
export async function createTestApp(options: TestAppOptions = {}): Promise<NestExpressApplication> {
  await migrateOnce(e2eDatabaseUrl());
  const builder = Test.createTestingModule({
    imports: [
      AppModule.forRoot({
        DATABASE_URL: e2eDatabaseUrl(),
        DB_MIGRATIONS_RUN: 'false',
        ...options.env,
      }),
    ],
  });
  if (options.clock) builder.overrideProvider(Clock).useValue(options.clock);
  if (options.checkpoints) builder.overrideProvider(Checkpoints).useValue(options.checkpoints);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: options.logger ?? ['error', 'warn'],
  });
  configureApp(app);
  await app.init();
  return app;
}
