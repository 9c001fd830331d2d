import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Jest loads global setup as CommonJS, without the '.js' → '.ts' mapping of test files, hence '.ts'.
import { EmbeddedDatabase } from '../../src/database/embedded-postgres.ts';
import { freePort } from '../support/free-port.ts';
import { SECRETS_FILE } from '../support/ledger.ts';
import { databaseName, E2E_DATABASE_URL, onServer, withDatabase } from './test-database.ts';

declare global {
  var latchkeyE2e:
    | {
        serverUrl: string;
        database: string;
        embedded?: EmbeddedDatabase;
        secretsDir: string;
        secretsFile: string;
      }
    | undefined;
}

/**
 * e2e tests get a fresh database on a real PostgreSQL: the server of TEST_DATABASE_URL (or
 * DATABASE_URL) when set, else an embedded one of their own. Test apps apply the migrations.
 */
export default async function globalSetup(): Promise<void> {
  // Some tests run the built app as real processes; build once here, not racing in each file.
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  let serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  if (serverUrl) {
    if (!databaseName(serverUrl).includes('test')) {
      throw new Error(
        `Refusing to run e2e tests against database "${databaseName(serverUrl)}": its name must contain "test".`,
      );
    }
  } else {
    // Only our own messages, on stderr like Jest's; the server's log stays out of the test output.
    const logger = { log: console.warn, warn: console.warn };
    embedded = new EmbeddedDatabase({ dataDir: '.data/pg-test', port: await freePort(), logger });
    serverUrl = await embedded.start();
  }
  const database = `latchkey_test_${randomBytes(4).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${database}`);
  process.env[E2E_DATABASE_URL] = withDatabase(serverUrl, database);
  // Test files (in workers, which inherit this environment) write down the secrets they use here.
  const secretsDir = await mkdtemp(join(tmpdir(), 'latchkey-e2e-secrets-'));
  const secretsFile = join(secretsDir, 'secrets.jsonl');
  process.env[SECRETS_FILE] = secretsFile;
  globalThis.latchkeyE2e = { serverUrl, database, embedded, secretsDir, secretsFile };
}
