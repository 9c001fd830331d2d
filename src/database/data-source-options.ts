import type { DataSourceOptions } from 'typeorm';
import { SessionRow } from '../sessions/session.entity.js';
import { User } from '../users/user.entity.js';
import { migrations } from './migrations/index.js';

export const entities = [User, SessionRow];

/** The one description of our database, shared by the app, `npm run db-up` and the TypeORM CLI. */
export function dataSourceOptions(
  url: string,
  options: { migrationsRun?: boolean } = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsRun: options.migrationsRun ?? false,
    migrationsTableName: 'migrations',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+; the schema comes from migrations, so no extensions.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    applicationName: 'latchkey',
  };
}
