// The built app (dist/) on free ports with a fresh embedded PostgreSQL that is deleted afterwards,
// for scripts that test it from outside (`npm run test:client`). The same steps as test-postman.mjs.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const ROOT = resolve(import.meta.dirname, '..');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

const freePort = async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
};

/** The status of a GET, or 0 when nothing answers (yet). */
const statusOf = (url) =>
  new Promise((resolve) => {
    const request = get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/** The embedded server's postmaster pid while it runs (it outlives an app that was killed). */
const postmasterPid = (dataDir) => {
  try {
    return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  } catch {
    return null;
  }
};

/** Whether `pid` is still the PostgreSQL server of `dataDir` (where /proc tells), and ours to stop. */
const isServerOf = (pid, dataDir) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  return !existsSync(cmdline) || readFileSync(cmdline, 'utf8').includes(dataDir);
};

/**
 * Builds if needed and starts the app. Resolves to `{ baseUrl, databaseUrl, output, stop }` once /docs-json
 * answers 200, or to `{ failure, output, stop }` when it cannot start. `stop` is idempotent and
 * also runs on SIGINT/SIGTERM of this process.
 */
export async function startBuiltApp({ say }) {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const port = await freePort();
  let dbPort = await freePort();
  while (dbPort === port) dbPort = await freePort();
  const dataDir = join(ROOT, '.data', `client-${randomBytes(6).toString('hex')}`);
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PORT: String(port),
    EMBEDDED_DB_DIR: dataDir,
    EMBEDDED_DB_PORT: String(dbPort),
    LOG_LEVEL: 'warn',
    // The walk logs in from one address more often than the login limit allows a person; the
    // limits have their own tests (test/security-rate-limits.e2e-spec.ts).
    RATE_LIMITS: 'off',
  };
  delete env.DATABASE_URL;

  say(`starting the app on ${baseUrl} with a fresh embedded database in ${dataDir}`);
  // Its own process group, so a Ctrl-C reaches only this script, which then stops the app once.
  const app = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  app.stdout.on('data', (chunk) => (output += chunk));
  app.stderr.on('data', (chunk) => (output += chunk));
  const appExit = once(app, 'exit');

  let stopping;
  /** SIGTERM the app, wait for it (and its database server) to exit, delete the data folder. */
  const stop = () =>
    (stopping ??= (async () => {
      if (!exited(app)) {
        app.kill('SIGTERM');
        const timeout = delay(STOP_TIMEOUT_MS, 'timeout', { ref: false });
        if ((await Promise.race([appExit, timeout])) === 'timeout') {
          say(`the app did not exit within ${STOP_TIMEOUT_MS / 1000}s of SIGTERM; killing it`);
          app.kill('SIGKILL');
          await appExit;
        }
      }
      // Normally the app stops its database server; if it could not, stop it before deleting its data.
      const pid = postmasterPid(dataDir);
      if (pid && isServerOf(pid, dataDir)) {
        say(`stopping the embedded PostgreSQL server left running (pid ${pid})`);
        process.kill(pid, 'SIGINT'); // fast shutdown
        const deadline = Date.now() + STOP_TIMEOUT_MS;
        while (isServerOf(pid, dataDir) && Date.now() < deadline) await delay(100);
      }
      await rm(dataDir, { recursive: true, force: true });
    })());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ]) {
    process.once(signal, async () => {
      say(`${signal}: stopping the app`);
      await stop();
      process.exit(code);
    });
  }

  const failure = await (async () => {
    for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline; await delay(250)) {
      if (exited(app)) return `it exited (${app.exitCode ?? app.signalCode})`;
      if ((await statusOf(`${baseUrl}/docs-json`)) === 200) {
        return existsSync(join(dataDir, 'PG_VERSION'))
          ? null
          : `it is not using the embedded database in ${dataDir} (is DATABASE_URL set in an .env file?)`;
      }
    }
    return `GET /docs-json did not answer 200 within ${START_TIMEOUT_MS / 1000}s`;
  })();
  /** The embedded server's URL, for tools that share the app's database (the command line). */
  const databaseUrl = () => {
    const password = readFileSync(join(dataDir, 'latchkey.password'), 'utf8');
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${dbPort}/latchkey`;
  };
  return { baseUrl, databaseUrl, failure, output: () => output, stop };
}
