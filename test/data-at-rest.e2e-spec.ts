import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { secretsAtRest } from './setup/data-at-rest.js';
import { e2eDatabaseUrl, migrateOnce } from './support/app.js';
import { deleteKeys, redisUnavailableReason, TEST_REDIS_URL } from './support/redis.js';

const redisSkipReason = await redisUnavailableReason();

/**
 * Global teardown runs secretsAtRest over the whole run (see there); this proves that the check
 * can fail: a token and a password planted in a table and in a Redis key are found, by name.
 */
describe('the data-at-rest check', () => {
  const token = `lk_${randomBytes(32).toString('base64url')}`;
  const password = `planted passphrase ${randomBytes(4).toString('hex')}`;
  const table = `data_at_rest_probe_${randomBytes(4).toString('hex')}`;
  const prefix = `latchkey-probe-${randomBytes(4).toString('hex')}:`;
  const db = new pg.Client({ connectionString: e2eDatabaseUrl() });
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });

  beforeAll(async () => {
    await migrateOnce();
    await db.connect();
    if (!redisSkipReason) await redis.connect();
  });
  afterAll(async () => {
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
    if (!redisSkipReason) await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('finds a token and a password stored in the clear in any table, and nothing once they are gone', async () => {
    await db.query(`CREATE TABLE ${table} (id int, note jsonb)`);
    await db.query(`INSERT INTO ${table} VALUES (1, $1)`, [
      JSON.stringify({ seen: `token=${token};`, said: `my ${password}!` }),
    ]);
    const places = { databaseUrl: e2eDatabaseUrl() };
    const found = await secretsAtRest([token, password, 'never stored anywhere'], places);
    expect(found).toEqual([
      { where: `public.${table}`, secret: token },
      { where: `public.${table}`, secret: password },
    ]);
    await db.query(`DROP TABLE ${table}`);
    await expect(secretsAtRest([token, password], places)).resolves.toEqual([]);
  });

  (redisSkipReason ? it.skip : it)(
    'finds them in a Redis value, a hash field or a key name',
    async () => {
      await redis.set(`${prefix}plain`, `{"t":"${token}"}`);
      await redis.hset(`${prefix}hash`, 'field', password);
      await redis.set(`${prefix}session:${token}`, '1');
      const found = await secretsAtRest([token, password], {
        databaseUrl: e2eDatabaseUrl(),
        redisUrl: TEST_REDIS_URL,
        redisPattern: `${prefix}*`,
      });
      expect(
        found
          .map(({ where, secret }) => `${where} ${secret === token ? 'token' : 'password'}`)
          .sort(),
      ).toEqual(
        [
          `redis ${prefix}hash password`,
          `redis ${prefix}plain token`,
          `redis ${prefix}session:${token} token`,
        ].sort(),
      );
    },
  );
});
