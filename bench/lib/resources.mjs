// Everything a bench run starts or creates (processes, databases, Redis keys) is registered here
// and undone by cleanUp(), which run.mjs calls on success, on failure and on SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';

export const ADMIN_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Unique per run, so parallel runs on one PostgreSQL and Redis never meet. */
export const RUN_ID = `${process.pid}_${randomBytes(3).toString('hex')}`;

const children = new Set();
const databases = new Set();
const redisPrefixes = new Set();
export const logDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));

export const freePort = async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
};

const admin = async (sql) => {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
};

/** A fresh, uniquely named database on the local server; its URL. Dropped by cleanUp(). */
export async function createDatabase(name) {
  const database = `latchkey_bench_${RUN_ID}_${name}`.toLowerCase();
  await admin(`CREATE DATABASE "${database}"`);
  databases.add(database);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A Redis key prefix of this run; its keys are deleted by cleanUp(). */
export function redisPrefix(name) {
  const prefix = `latchkey-bench:${RUN_ID}:${name}:`;
  redisPrefixes.add(prefix);
  return prefix;
}

/**
 * Starts `node <args>` with its output in a log file (a pipe would make this process, which also
 * generates the load, spend CPU reading request logs). Resolves once `ready()` resolves true.
 */
export async function startProcess(name, args, env, ready, timeoutMs = 120_000) {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const entry = { name, child, log, exited: once(child, 'exit') };
  children.add(entry);
  entry.exited.then(() => children.delete(entry));
  const output = () => readFileSync(log, 'utf8');
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await delay(100)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${name} exited during start-up (${child.exitCode ?? child.signalCode}):\n${output().slice(-4000)}`,
      );
    }
    if (await ready(output).catch(() => false)) return { ...entry, output };
  }
  throw new Error(
    `${name} did not become ready within ${timeoutMs / 1000}s:\n${output().slice(-4000)}`,
  );
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(entry, graceMs = 10_000) {
  const { child, exited } = entry;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export const httpReady = (url) => async () => (await fetch(url)).ok;

let cleaning;
/** Stops every process, drops every database and deletes every Redis key of this run. */
export function cleanUp() {
  cleaning ??= (async () => {
    const problems = [];
    await Promise.all([...children].map((entry) => stopProcess(entry)));
    for (const database of databases) {
      await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch((error) =>
        problems.push(`drop database ${database}: ${error.message}`),
      );
    }
    if (redisPrefixes.size > 0) {
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        for (const prefix of redisPrefixes) {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
            if (keys.length > 0) await redis.del(...keys);
            cursor = next;
          } while (cursor !== '0');
        }
      } catch (error) {
        problems.push(`redis clean-up: ${error.message}`);
      } finally {
        redis.disconnect();
      }
    }
    rmSync(logDir, { recursive: true, force: true });
    return problems;
  })();
  return cleaning;
}
