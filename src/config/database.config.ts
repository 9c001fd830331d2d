import { type ConfigOf, namespace } from './namespace.js';

export const databaseConfig = namespace('database', (env) => ({
  /** Unset: an embedded PostgreSQL is started (development and tests only). */
  url: env.DATABASE_URL,
  embedded: { dataDir: env.EMBEDDED_DB_DIR, port: env.EMBEDDED_DB_PORT },
  migrationsRun: env.DB_MIGRATIONS_RUN,
}));
export type DatabaseConfig = ConfigOf<typeof databaseConfig>;
