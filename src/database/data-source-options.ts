import pg from 'pg';
import type { DataSourceOptions } from 'typeorm';
import { SessionRow } from '../sessions/session.entity.js';
import { User } from '../users/user.entity.js';
import { migrations } from './migrations/index.js';
import { EmailToken } from '../mail/email-token.entity.js';
import { AuditEntry } from '../audit/audit-entry.entity.js';

export const entities = [User, SessionRow, EmailToken, AuditEntry];

/**
 * A pg client that drops its connection when a query times out on the client side (a stalled
 * server or network): nothing more can come through it, so the pool replaces it instead of handing
 * it out again, the server ends the transaction and its locks, and what TypeORM sends next on it
 * (a ROLLBACK) fails at once instead of waiting out another timeout.
 */
class StallDroppingClient extends pg.Client {
  constructor(config: pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((...args: unknown[]) => {
      const result = query(...args);
      if (result instanceof Promise) {
        result.catch((error: Error) => {
          if (error.message === 'Query read timeout') this.connection.stream.destroy();
        });
      }
      return result;
    }) as pg.Client['query'];
  }
}

/**
 * Every wait on PostgreSQL ends after `ms`: a new connection, a free one from the pool (both
 * `connectionTimeoutMillis`), a statement on the server (`statement_timeout`, which also covers
 * lock waits) and its answer on the client (`query_timeout`, for a stalled server or network).
 */
const bounded = (ms: number) => ({
  Client: StallDroppingClient,
  connectionTimeoutMillis: ms,
  statement_timeout: ms,
  // A little later than the server's own cancel, so a merely slow statement ends with that clean
  // cancel and keeps its connection; only a stall that delivers nothing reaches the client's limit.
  query_timeout: ms + 500,
  // A transaction whose client vanished without a word would hold its locks until TCP noticed.
  idle_in_transaction_session_timeout: ms,
});

/** The one description of our database, shared by the app, `npm run db-up` and the TypeORM CLI. */
export function dataSourceOptions(
  url: string,
  options: { migrationsRun?: boolean; timeoutMs?: number } = {},
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
    // Unbounded without a timeout: the TypeORM CLI and the tests' own set-up.
    ...(options.timeoutMs ? { extra: bounded(options.timeoutMs) } : {}),
  };
}
