import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryPrepared } from '../src/database/prepared-statements.js';
import { e2eDatabaseUrl } from './support/app.js';

/**
 * The hot path's named statements outlive what they were prepared against: a migration that
 * changes a column's type, a pooler that resets the server session. Each must cost one retry on
 * another connection, not a connection that fails every request from then on.
 */
describe('queryPrepared', () => {
  const table = `prepared_probe_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const statement = { name: `${table}_by_id`, text: `SELECT name FROM ${table} WHERE id = $1` };
  let dataSource: DataSource;

  beforeAll(async () => {
    // One connection: every call below runs on the client that prepared the statement.
    dataSource = new DataSource({ type: 'postgres', url: e2eDatabaseUrl(), extra: { max: 1 } });
    await dataSource.initialize();
    await dataSource.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name varchar(10))`);
    await dataSource.query(`INSERT INTO ${table} VALUES (1, 'ada')`);
  });
  afterAll(async () => {
    await dataSource?.query(`DROP TABLE IF EXISTS ${table}`);
    await dataSource?.destroy();
  });

  const lookup = () => queryPrepared<{ name: string }>(dataSource, statement, [1]);

  it('still answers after a column of the result changed type', async () => {
    await expect(lookup()).resolves.toEqual([{ name: 'ada' }]);
    await dataSource.query(`ALTER TABLE ${table} ALTER COLUMN name TYPE varchar(20)`);
    await expect(lookup()).resolves.toEqual([{ name: 'ada' }]);
    await expect(lookup()).resolves.toEqual([{ name: 'ada' }]);
  });

  it('still answers after the server session forgot its prepared statements', async () => {
    await expect(lookup()).resolves.toEqual([{ name: 'ada' }]);
    await dataSource.query('DEALLOCATE ALL');
    await expect(lookup()).resolves.toEqual([{ name: 'ada' }]);
    await expect(lookup()).resolves.toEqual([{ name: 'ada' }]);
  });

  it('leaves any other error as it is, and the connection usable', async () => {
    const broken = { name: `${table}_broken`, text: `SELECT missing FROM ${table}` };
    await expect(queryPrepared(dataSource, broken, [])).rejects.toMatchObject({ code: '42703' });
    await expect(lookup()).resolves.toEqual([{ name: 'ada' }]);
  });
});
