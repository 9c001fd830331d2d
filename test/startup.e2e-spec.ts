import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { uniqueEmail } from './support/factories.js';
import { freePort, Instance, prepareInstances } from './support/instance.js';

// Under the repository, not a 0700 folder such as /tmp's private ones: run as root, the embedded
// server runs as the postgres user, which must reach it.
const dataDir = resolve(`.data/startup-e2e-${process.pid}`);
const EXIT_TIMEOUT_MS = 90_000;
const STACK_LINE = /^\s+at /m;

/** Runs the built app until it exits by itself (killed past a bound); its exit code and output. */
async function runUntilExit(env: Record<string, string>) {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

/** Settings for the embedded PostgreSQL in this file's data folder (DATABASE_URL empty is unset). */
const embedded = async () => ({
  DATABASE_URL: '',
  EMBEDDED_DB_DIR: dataDir,
  EMBEDDED_DB_PORT: String(await freePort()),
  DB_MIGRATIONS_RUN: 'true',
});

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Pids of running processes whose command line names this file's data folder (the server). */
async function serversOfDataDir(): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const commandLines = await Promise.all(
    pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')),
  );
  return pids.filter((_, index) => commandLines[index].split('\0').includes(dataDir)).map(Number);
}

const occupy = async (): Promise<Server> => {
  const server = createServer().listen(0);
  await once(server, 'listening');
  return server;
};
const portOf = (server: Server) => (server.address() as { port: number }).port;

describe('start-up failures', () => {
  const instances: Instance[] = [];

  beforeAll(() => prepareInstances());

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    // A failed test may leave a server behind: stop it, so that nothing outlives the run.
    for (const pid of await serversOfDataDir()) process.kill(pid, 'SIGINT');
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await delay(100)) {
      if ((await serversOfDataDir()).length === 0) break;
    }
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('a busy PORT: one line, exit 1, and the embedded PostgreSQL it started is stopped', async () => {
    const busy = await occupy();
    try {
      const port = portOf(busy);
      const { code, output } = await runUntilExit({
        ...(await embedded()),
        PORT: String(port),
        LOG_LEVEL: 'info',
      });
      expect({ code, output }).toMatchObject({ code: 1 });
      // The embedded server did start, before the port was found busy.
      expect(output).toContain('Using embedded PostgreSQL');
      const line = `Port ${port} is in use: stop what listens there, or set PORT to a free port`;
      expect(output.split('\n').filter((each) => each === line)).toHaveLength(1);
      expect(output).not.toMatch(STACK_LINE);
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
      expect(await serversOfDataDir()).toEqual([]);
    } finally {
      busy.close();
    }
  }, 120_000);

  it('a second instance on the same data folder: one line, exit 1, the first keeps running', async () => {
    const first = await Instance.start(await embedded());
    instances.push(first);
    const [server] = await serversOfDataDir();
    expect(isAlive(server)).toBe(true);

    const { code, output } = await runUntilExit({
      ...(await embedded()),
      PORT: String(await freePort()),
    });
    expect({ code, output }).toMatchObject({ code: 1 });
    expect(output.trim()).toMatch(
      new RegExp(
        `^The embedded database in ${dataDir} is in use by process \\d+\\. Stop that process, or give this one its own DATABASE_URL or EMBEDDED_DB_DIR\\.$`,
      ),
    );

    // The refused instance left the first one's server alone.
    expect(await serversOfDataDir()).toEqual([server]);
    const email = uniqueEmail('startup');
    const password = 'startup test passphrase';
    const registered = await first.request('POST', '/auth/register', { body: { email, password } });
    expect(registered.status).toBe(201);
    expect(await first.stop()).toBe(0);
    expect(isAlive(server)).toBe(false);
  }, 120_000);

  it('a busy EMBEDDED_DB_PORT: one line, exit 1, nothing left running', async () => {
    const busy = await occupy();
    try {
      const { code, output } = await runUntilExit({
        ...(await embedded()),
        EMBEDDED_DB_PORT: String(portOf(busy)),
        PORT: String(await freePort()),
      });
      expect({ code, output }).toMatchObject({ code: 1 });
      expect(output.trim()).toBe(
        `Embedded PostgreSQL cannot listen on 127.0.0.1:${portOf(busy)}, which is in use: set EMBEDDED_DB_PORT to a free port`,
      );
      expect(await serversOfDataDir()).toEqual([]);
    } finally {
      busy.close();
    }
  }, 120_000);

  it('an EMBEDDED_DB_DIR holding other files: refused in one line, and nothing is deleted', async () => {
    const folder = `${dataDir}-foreign`;
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'notes.txt'), 'keep me');
    try {
      const { code, output } = await runUntilExit({
        ...(await embedded()),
        EMBEDDED_DB_DIR: folder,
        PORT: String(await freePort()),
      });
      expect({ code, output }).toMatchObject({ code: 1 });
      expect(output.trim()).toBe(
        `EMBEDDED_DB_DIR ${folder} holds files that are not PostgreSQL's (notes.txt): choose a new or empty folder`,
      );
      expect(await readFile(join(folder, 'notes.txt'), 'utf8')).toBe('keep me');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it('bad settings: one line each, no stack, exit 1', async () => {
    const { code, output } = await runUntilExit({
      PORT: String(await freePort()),
      TRUST_PROXY: 'yes',
      SESSION_IDLE_TTL: '1000000000d',
    });
    expect({ code, output }).toMatchObject({ code: 1 });
    expect(output.trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  - TRUST_PROXY: must be true, false, a number of hops, or a comma-separated list of IP addresses, CIDR subnets, loopback, linklocal and uniquelocal ("yes" is none of these)',
      '  - SESSION_IDLE_TTL: must be at most 365d',
    ]);
  }, 30_000);

  it('TRUST_PROXY=true starts, and takes the client IP from X-Forwarded-For', async () => {
    const app = await Instance.start({ TRUST_PROXY: 'true' });
    instances.push(app);
    const email = uniqueEmail('trust-proxy');
    const password = 'trust proxy passphrase';
    await app.request('POST', '/auth/register', { body: { email, password } });
    const login = await fetch(`${app.url}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.7' },
      body: JSON.stringify({ email, password }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const sessions = await app.request('GET', '/auth/sessions', { token });
    expect(sessions.body).toEqual([expect.objectContaining({ ip: '203.0.113.7' })]);
  }, 60_000);
});
