// Loaded as CommonJS, like global setup: see there.
import { readFile, rm } from 'node:fs/promises';
import { redisUnavailableReason, TEST_REDIS_URL } from '../support/redis.ts';
import { secretsAtRest } from './data-at-rest.ts';
import { onServer, withDatabase } from './test-database.ts';

/** Every test's Redis prefix starts so (the service's default is `latchkey:`). */
export const TEST_REDIS_KEYS = 'latchkey*';

/**
 * Data at rest: after every e2e test has run, no password or token the run used (the helpers
 * wrote each one down, see support/ledger.ts) may be stored in the clear, in any table of the
 * run's database or any Redis key of the tests. Then the database is dropped.
 */
export default async function globalTeardown(): Promise<void> {
  const run = globalThis.latchkeyE2e;
  if (!run) return;
  try {
    const secrets = new Set(
      (await readFile(run.secretsFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string),
    );
    const redisUrl = (await redisUnavailableReason()) ? undefined : TEST_REDIS_URL;
    const findings = await secretsAtRest(secrets, {
      databaseUrl: withDatabase(run.serverUrl, run.database),
      redisUrl,
      redisPattern: TEST_REDIS_KEYS,
    });
    if (findings.length > 0) {
      const lines = findings.map(({ where, secret }) => `${where}: ${secret.slice(0, 12)}…`);
      throw new Error(
        `Data at rest: ${findings.length} of the ${secrets.size} secrets the run used are stored in the clear:\n  ${lines.join('\n  ')}`,
      );
    }
    const tokens = [...secrets].filter((secret) => /^lk[vr]?_/.test(secret)).length;
    console.warn(
      `Data at rest: none of the ${secrets.size} secrets the run used (${tokens} tokens, ${secrets.size - tokens} passwords) is stored in the clear.`,
    );
  } finally {
    await rm(run.secretsDir, { recursive: true, force: true });
    await onServer(run.serverUrl, `DROP DATABASE IF EXISTS ${run.database} WITH (FORCE)`);
    await run.embedded?.stop();
  }
}
