// `npm run test:postman`: runs the Postman collection with newman against the built app, started
// on free ports with a fresh embedded PostgreSQL that is deleted afterwards. Exits non-zero when the
// app does not start or any request or assertion fails.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import newman from 'newman';

const ROOT = resolve(import.meta.dirname, '..');
const COLLECTION = join(ROOT, 'postman/latchkey.postman_collection.json');
const ENVIRONMENT = join(ROOT, 'postman/latchkey.postman_environment.json');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

const say = (message) => console.error(`[test:postman] ${message}`);

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

const runCollection = (baseUrl) =>
  new Promise((resolve, reject) => {
    newman.run(
      {
        collection: COLLECTION,
        environment: ENVIRONMENT,
        envVar: [{ key: 'baseUrl', value: baseUrl }],
        reporters: ['cli'],
        timeoutRequest: 30_000,
      },
      (error, summary) => (error ? reject(error) : resolve(summary)),
    );
  });

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

process.chdir(ROOT);
try {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
} catch {
  say('the build failed');
  process.exit(1);
}

const port = await freePort();
let dbPort = await freePort();
while (dbPort === port) dbPort = await freePort();
const dataDir = join(ROOT, '.data', `postman-${randomBytes(6).toString('hex')}`);
const baseUrl = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  PORT: String(port),
  EMBEDDED_DB_DIR: dataDir,
  EMBEDDED_DB_PORT: String(dbPort),
  LOG_LEVEL: 'warn',
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
      } else if (app.exitCode !== 0) {
        say(`warning: the app exited with ${app.exitCode ?? app.signalCode} on SIGTERM`);
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

const waitUntilReady = async () => {
  for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline; await delay(250)) {
    if (exited(app)) return `it exited (${app.exitCode ?? app.signalCode})`;
    if ((await statusOf(`${baseUrl}/docs-json`)) === 200) return null;
  }
  return `GET /docs-json did not answer 200 within ${START_TIMEOUT_MS / 1000}s`;
};

let failed = true;
try {
  const notReady = await waitUntilReady();
  if (notReady) {
    say(`the app could not start: ${notReady}. Its output:\n${output || '(none)'}`);
  } else if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    say(
      `the app is not using the embedded database in ${dataDir} ` +
        '(is DATABASE_URL set in .env.local or another .env file?)',
    );
  } else {
    const summary = await runCollection(baseUrl);
    const { failures, stats } = summary.run;
    failed =
      Boolean(summary.run.error) ||
      failures.length > 0 ||
      stats.requests.failed > 0 ||
      stats.assertions.failed > 0;
    say(
      `${stats.requests.total} requests, ${stats.assertions.total} assertions, ` +
        `${failures.length} failure(s)`,
    );
    if (failed && output.trim()) say(`the app's output:\n${output}`);
  }
} catch (error) {
  say(`newman could not run the collection: ${error.stack ?? error}`);
} finally {
  await stop();
}
say(failed ? 'FAILED' : 'passed');
process.exitCode = failed ? 1 : 0;
