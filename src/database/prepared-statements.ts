import type pg from 'pg';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** A statement PostgreSQL parses and plans once per connection: the name must stay with one text. */
export interface PreparedStatement {
  name: string;
  text: string;
}

/**
 * Runs a named statement on a connection of the DataSource's pool, for lookups on the hot path
 * that TypeORM would build and have parsed anew on every call. Fails as TypeORM does when the
 * pool is not there ("Driver not Connected"), and gets the same timeouts and stall handling.
 */
export async function queryPrepared<Row>(
  dataSource: DataSource,
  statement: PreparedStatement,
  values: unknown[],
): Promise<Row[]> {
  const [client, release] = (await (
    dataSource.driver as PostgresDriver
  ).obtainMasterConnection()) as [pg.PoolClient, () => void];
  try {
    // A fresh object each time: pg keeps per-query state on it.
    const result = await client.query<Row & pg.QueryResultRow>({ ...statement, values });
    return result.rows;
  } finally {
    release();
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
