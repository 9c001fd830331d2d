// Loaded by global teardown (CommonJS, hence no '.js' imports here) and by its own e2e test.
import { Redis } from 'ioredis';
import pg from 'pg';

/** Secrets shaped like tokens are looked up word by word; others (passwords) by substring. */
const TOKEN_SHAPED = /^[A-Za-z0-9_-]{16,}$/;
const WORD_SEPARATOR = /[^A-Za-z0-9_-]+/;

export interface Finding {
  where: string;
  secret: string;
}

function finder(secrets: Iterable<string>) {
  const words = new Set<string>();
  const phrases: string[] = [];
  for (const secret of secrets) {
    if (TOKEN_SHAPED.test(secret)) words.add(secret);
    else phrases.push(secret);
  }
  return (where: string, text: string): Finding[] =>
    [...new Set(text.split(WORD_SEPARATOR).filter((word) => words.has(word)))]
      .concat(phrases.filter((phrase) => text.includes(phrase)))
      .map((secret) => ({ where, secret }));
}

/** Every row of every table of the database, as text, table by table. */
async function* tables(databaseUrl: string): AsyncGenerator<[string, string]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    for (const { name } of rows) {
      const dump = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
      yield [name, dump.rows.map((each) => each.row).join('\n')];
    }
  } finally {
    await client.end();
  }
}

/** Every key under `pattern` with its value(s), key by key. */
async function* redisKeys(redisUrl: string, pattern: string): AsyncGenerator<[string, string]> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    for await (const keys of redis.scanStream({ match: pattern, count: 1000 })) {
      for (const key of keys as string[]) {
        const type = await redis.type(key);
        const values =
          type === 'string'
            ? [await redis.get(key)]
            : type === 'hash'
              ? Object.entries(await redis.hgetall(key)).flat()
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, 0, -1)
                  : type === 'list'
                    ? await redis.lrange(key, 0, -1)
                    : [];
        yield [`redis ${key}`, [key, ...values].join('\n')];
      }
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Where any of `secrets` is stored in the clear: in any table of the database, or in any Redis
 * key matching `redisPattern` (key names included). Tokens must be stored as digests, passwords as
 * hashes, so the right answer is none.
 */
export async function secretsAtRest(
  secrets: Iterable<string>,
  places: { databaseUrl: string; redisUrl?: string; redisPattern?: string },
): Promise<Finding[]> {
  const find = finder(secrets);
  const findings: Finding[] = [];
  for await (const [where, text] of tables(places.databaseUrl)) findings.push(...find(where, text));
  if (places.redisUrl) {
    for await (const [where, text] of redisKeys(places.redisUrl, places.redisPattern ?? '*')) {
      findings.push(...find(where, text));
    }
  }
  return findings;
}
