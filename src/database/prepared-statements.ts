import type pg from 'pg';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** A statement PostgreSQL parses and plans once per connection: the name must stay with one text. */
export interface PreparedStatement {
  name: string;
  text: string;
}

/**
 * Errors after which a connection's prepared statement is gone or no longer fits: the server
 * session was reset (26000, or 42P05 when pg's cache and the server disagree the other way), or a
 * column's type changed under it (0A000, "cached plan must not change result type"). pg never
 * forgets a statement it prepared on a client, so that client would fail the same way for ever.
 */
const STALE_STATEMENT = new Set(['0A000', '26000', '42P05']);

/**
 * Runs a named statement on a connection of the DataSource's pool, for lookups on the hot path
 * that TypeORM would build and have parsed anew on every call. Fails as TypeORM does when the
 * pool is not there ("Driver not Connected"), and gets the same timeouts and stall handling. A
 * connection whose statement went stale is destroyed, and the statement runs once more on another.
 */
export async function queryPrepared<Row>(
  dataSource: DataSource,
  statement: PreparedStatement,
  values: unknown[],
  retried = false,
): Promise<Row[]> {
  const [client, release] = (await (
    dataSource.driver as PostgresDriver
  ).obtainMasterConnection()) as [pg.PoolClient, (error?: Error) => void];
  try {
    // A fresh object each time: pg keeps per-query state on it.
    const result = await client.query<Row & pg.QueryResultRow>({ ...statement, values });
    release();
    return result.rows;
  } catch (error) {
    const stale = STALE_STATEMENT.has((error as { code?: string }).code ?? '');
    // Only a stale statement condemns the connection; any other error leaves it as it was.
    release(stale ? (error as Error) : undefined);
    if (stale && !retried) return queryPrepared(dataSource, statement, values, true);
    throw error;
  }
}

/** An entity's columns for a hand-written SELECT, and the reader of the rows it returns. */
export interface EntityColumns<Entity> {
  /** `alias."column" AS "prefixproperty", …`: every column of the entity. */
  select: string;
  /** The entity from a row, each value hydrated as TypeORM would hydrate it. */
  read(row: Record<string, unknown>): Entity;
}

const quoted = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/**
 * Built once from the entity's metadata, so a column added to the entity later is read here too.
 * `prefix` keeps the columns of two entities in one row apart.
 */
export function entityColumns<Entity extends ObjectLiteral>(
  dataSource: DataSource,
  target: EntityTarget<Entity>,
  alias: string,
  prefix = '',
): EntityColumns<Entity> {
  const metadata = dataSource.getMetadata(target);
  const driver = dataSource.driver;
  const columns = metadata.columns.map((column) => ({ column, key: prefix + column.propertyName }));
  return {
    select: columns
      .map(({ column, key }) => `${alias}.${quoted(column.databaseName)} AS ${quoted(key)}`)
      .join(', '),
    read: (row) => {
      const entity = metadata.create() as Entity;
      for (const { column, key } of columns) {
        (entity as Record<string, unknown>)[column.propertyName] = driver.prepareHydratedValue(
          row[key],
          column,
        );
      }
      return entity;
    },
  };
}
